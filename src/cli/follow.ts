/**
 * `optevo show RUN --follow`: watches a run from any machine, read-only.
 * Every second it reads what was committed since, and prints it as the
 * search's own plain lines (progress, new best, failures, warnings), until
 * the run is no longer running or the user presses Ctrl-C. It never writes
 * to the run.
 */
import { isCoordinated } from '../../search/postgres/lock.js';
import type { StoreLocation } from '../../search/postgres/url.js';
import { SqliteRunStore as RunStore, StoreError } from '../../search/store.js';
import type { ChildRecord, LogLevel, SearchStats } from '../../search/types.js';
import { heldByLiveProcess } from '../inspect/runs.js';
import { createPlainReporter } from '../tui/plain.js';
import { UserError } from './errors.js';
import { withPgRun } from './pg-open.js';
import { judgedOf } from '../format.js';

/** What one look at the run gives. */
interface Look {
  name: string;
  running: boolean;
  stats: SearchStats;
  children: ChildRecord[];
  logs: { at: string; level: LogLevel; message: string }[];
}

export interface FollowOptions {
  everyMs?: number;
  write?: (line: string) => void;
  /** Stops following (tests); Ctrl-C does otherwise. */
  stop?: Promise<void>;
  /** Looks at most this many times (tests). */
  maxLooks?: number;
}

export async function followRun(run: string, location: StoreLocation | null, dir: string, opts: FollowOptions = {}): Promise<void> {
  const write = opts.write ?? ((l: string) => process.stdout.write(l + '\n'));
  const everyMs = opts.everyMs ?? 1000;
  let stopped = false;
  const onSigint = () => (stopped = true);
  process.on('SIGINT', onSigint);
  void opts.stop?.then(() => (stopped = true));
  const report = createPlainReporter({ write, everyMs: 0 });
  let after = 0;
  let logSince = '';
  let best: number | null = null;
  let started = false;
  try {
    for (let look = 0; !stopped && look < (opts.maxLooks ?? Number.POSITIVE_INFINITY); look++) {
      const l = location ? await lookPg(location, run, after) : lookSqlite(run, dir, after);
      if (!started) {
        started = true;
        report({ type: 'start', run: l.name, resumed: l.stats.judged > 0, budget: l.stats.budget, workers: l.stats.workers });
        logSince = l.logs.at(-1)?.at ?? '';
      } else {
        for (const x of l.logs) if (x.at > logSince && x.level !== 'info') report({ type: 'log', level: x.level, message: x.message });
        logSince = l.logs.at(-1)?.at ?? logSince;
      }
      for (const c of l.children) {
        if (c.fitness !== null && c.status !== 'cached' && (best === null || c.fitness > best)) {
          best = c.fitness;
          report({ type: 'best', child: c });
        }
        if (c.status === 'failed') write(`child #${c.id} failed: ${c.failure ?? 'unknown reason'}`);
        after = c.id;
      }
      if (l.children.length) write(progressOf(l.stats));
      if (!l.running && after >= l.stats.judged) {
        write(`run ${l.name} is not running (${judgedOf(l.stats.judged, l.stats.budget)} judged)`);
        return;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function progressOf(s: SearchStats): string {
  const best = s.bestId === null ? 'best -' : `best ${s.bestFitness?.toFixed(4)} (#${s.bestId})`;
  return `[${judgedOf(s.judged, s.budget)}] ${best}  cached ${s.cached}  pruned ${s.pruned}  failed ${s.failed}  invalid ${s.invalid}`;
}

/** Children after `after`, a page at a time (a late follower catches up in steps). */
const PAGE = 500;

async function lookPg(location: StoreLocation, run: string, after: number): Promise<Look> {
  return withPgRun(location, run, async (store, db) => {
    const [status, stats, children, logs, live] = await Promise.all([
      store.status(),
      store.stats(),
      store.children({ from: after + 1, limit: PAGE }),
      store.logs(20),
      store.status().then((s) => (s === 'running' ? isCoordinated(db, store.id) : false)),
    ]);
    return { name: store.name, running: status === 'running' && live, stats, children, logs };
  });
}

function lookSqlite(run: string, dir: string, after: number): Look {
  let store: RunStore;
  try {
    store = RunStore.open(run, { readonly: true, runDir: dir });
  } catch (e) {
    if (e instanceof StoreError) throw new UserError(e.message);
    throw e;
  }
  try {
    const info = store.info();
    return {
      name: info.name,
      running: info.status === 'running' && heldByLiveProcess(info.dir),
      stats: store.stats(),
      children: store.children({ from: after + 1, limit: PAGE }),
      logs: store.logs(20),
    };
  } finally {
    store.close();
  }
}
