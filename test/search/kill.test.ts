import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { exited, startNode, waitFor } from '../processes.js';
import { runSnapshot, tempDir } from './helpers.js';

const script = fileURLToPath(new URL('./fixtures/search-process.mjs', import.meta.url));
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runToEnd(mode: 'new' | 'resume', name: string, budget: number, workers: number): void {
  const r = spawnSync(process.execPath, [script, mode, dir, name, String(budget), String(workers)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`search process failed (${r.status}): ${r.stderr}`);
}

function committed(name: string): number {
  try {
    const db = new Database(path.join(dir, name, 'run.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare("SELECT value FROM counters WHERE key = 'committed'").get() as { value: string } | undefined;
      return row ? Number(JSON.parse(row.value)) : 0;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

const snapshot = (name: string) => runSnapshot(path.join(dir, name));

describe('a search process killed with SIGKILL', () => {
  it('resumes with nothing lost or doubled and ends exactly as an uninterrupted run', async () => {
    const budget = 120;
    runToEnd('new', 'whole', budget, 2);
    const want = snapshot('whole');
    expect(want.children.map((c) => c.id)).toEqual(Array.from({ length: budget }, (_, i) => i + 1));

    // Kill twice at different points, resume with another worker count each time.
    const child = startNode([script, 'new', dir, 'killed', String(budget), '2']);
    await waitFor(() => committed('killed'), (n) => n >= 30, 60_000, 20);
    child.kill('SIGKILL');
    await exited(child);
    const at = committed('killed');
    expect(at).toBeGreaterThanOrEqual(30);
    expect(at).toBeLessThan(budget);

    const again = startNode([script, 'resume', dir, 'killed', String(budget), '3']);
    await waitFor(() => committed('killed'), (n) => n >= at + 25, 60_000, 20);
    again.kill('SIGKILL');
    await exited(again);

    runToEnd('resume', 'killed', budget, 1);
    expect(snapshot('killed')).toEqual(want);
  });
});
