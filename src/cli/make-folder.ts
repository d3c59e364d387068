/**
 * `mkdir -p` one level at a time. Node's recursive mkdir loops forever on
 * some virtual file systems (`/proc/x/y` on Linux); this stops at the first
 * level it cannot make, with the system's reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function makeFolder(dir: string): void {
  const missing: string[] = [];
  let d = path.resolve(dir);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${d} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) fs.mkdirSync(m);
}
