/**
 * The machine's cache of reference results (search/reference-cache.ts), on
 * disk beside the set-up cache ($OPTEVO_CACHE_DIR; OPTEVO_CACHE=off turns
 * both off). An entry's key names everything else a result depends on:
 * optevo's code (a hash of its modules, since the version number is not
 * bumped for every change to training), the tfjs packages' versions, the
 * backend asked for, and a tasks module's text. A stale entry is then a
 * miss, never a wrong reference.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReferenceCache } from '../search/reference-cache.js';
import type { SuiteResult } from '../search/types.js';
import { readCache, writeCache } from './data/disk-cache.js';

/** The folders whose modules decide a result (the CLI, dashboard and inspection do not). */
const CODE_DIRS = ['dsl', 'seeds', 'search', 'src', 'packages'];
const SKIP_DIRS = new Set(['cli', 'tui', 'inspect', 'node_modules', 'test', 'dist']);
const TFJS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

let fingerprint: string | undefined;

/** A hash of optevo's modules (from dist/ or from source, wherever this runs) and of the tfjs versions. */
export function codeFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const h = createHash('sha256');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const walk = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const file = join(dir, name);
      const st = statSync(file, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(file, `${rel}/${name}`);
      } else if (/\.(js|ts|opt)$/.test(name) && !name.endsWith('.d.ts')) {
        h.update(`${rel}/${name}\0`).update(readFileSync(file)).update('\0');
      }
    }
  };
  for (const d of CODE_DIRS) walk(join(root, d), d);
  const require = createRequire(import.meta.url);
  for (const pkg of TFJS) {
    try {
      const v = (require(`${pkg}/package.json`) as { version?: string }).version;
      h.update(`${pkg}@${v}\0`);
    } catch {
      h.update(`${pkg}@-\0`);
    }
  }
  fingerprint = h.digest('hex').slice(0, 32);
  return fingerprint;
}

/** JSON keeps NaN and the infinities as null; a reference's curves may hold them. */
const replacer = (_: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v);
const reviver = (_: string, v: unknown) => (v !== null && typeof v === 'object' && '$num' in v && Object.keys(v).length === 1 ? Number((v as { $num: string }).$num) : v);

export function diskReferenceCache(opts: { backend: string; tasksModule?: string }): ReferenceCache {
  let tasks = '';
  if (opts.tasksModule) {
    try {
      tasks = createHash('sha256').update(readFileSync(opts.tasksModule)).digest('hex');
    } catch {
      tasks = `unreadable:${opts.tasksModule}`;
    }
  }
  const key = (jobKey: string) => `reference-result\0${codeFingerprint()}\0${opts.backend}\0${tasks}\0${jobKey}`;
  return {
    get(jobKey) {
      const hit = readCache(key(jobKey));
      if (!hit || typeof hit.meta !== 'string') return undefined;
      try {
        return JSON.parse(hit.meta, reviver) as SuiteResult;
      } catch {
        return undefined;
      }
    },
    put(jobKey, result) {
      writeCache(key(jobKey), JSON.stringify(result, replacer), []);
    },
  };
}
