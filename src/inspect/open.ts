/**
 * Opening runs for reading, with the user's mistakes (a missing run, a file
 * that is not a run) turned into one-line `UserError`s.
 */
import { DEFAULT_RUN_DIR, SqliteRunStore, StoreError } from '../../search/store.js';
import type { ChildRecord } from '../../search/types.js';
import { UserError } from '../cli/errors.js';

export { DEFAULT_RUN_DIR };

/** Opens RUN (a name under `dir`, a run directory or its run.db) read-only. */
export function openRun(run: string, dir: string = DEFAULT_RUN_DIR): SqliteRunStore {
  try {
    return SqliteRunStore.open(run, { readonly: true, runDir: dir });
  } catch (e) {
    if (e instanceof StoreError) throw new UserError(e.message);
    throw e;
  }
}

/** Runs `f` on the opened run and closes it, whatever happens. */
export function withRun<T>(run: string, dir: string | undefined, f: (store: SqliteRunStore) => T): T {
  const store = openRun(run, dir);
  try {
    return f(store);
  } finally {
    store.close();
  }
}

/** Parses a `--program` value: `17` or `#17`. */
export function parseProgramId(value: string): number {
  const m = /^#?(\d+)$/.exec(value.trim());
  if (!m) throw new UserError(`--program expects a program id such as 17, not '${value}'`);
  return Number(m[1]);
}

export function childOrFail(store: SqliteRunStore, id: number): ChildRecord {
  const c = store.child(id);
  if (!c) {
    const last = store.counters().committed;
    throw new UserError(`run '${store.info().name}' has no program #${id} (its programs are #1 to #${last})`);
  }
  return c;
}
