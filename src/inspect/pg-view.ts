/**
 * A run kept in PostgreSQL, read for `show` and `export --program`: what the
 * command needs is read first (the leaderboard, one program's lineage, the
 * seeds), then answered synchronously as the SQLite store answers, so the
 * report code is the same for both stores.
 */
import type { PgRunStore } from '../../search/postgres/store.js';
import type { MetavalRow, SqliteRunInfo as RunInfo } from '../../search/store.js';
import type { ChildRecord, ChildStatus, Counters, SearchStats } from '../../search/types.js';
import type { RunReader } from './reader.js';

export interface ViewNeeds {
  /** Leaderboard rows. */
  top?: number;
  /** A program (with its lineage) to show. */
  program?: number;
}

export async function loadRunView(store: PgRunStore, needs: ViewNeeds): Promise<RunReader> {
  const [status, counters, stats, leaders, metaval, families, calibration] = await Promise.all([
    store.status(),
    store.counters(),
    store.stats(),
    store.leaderboard(needs.top ?? 0),
    store.metavalResults(),
    store.families(needs.top ?? 0),
    store.calibration(),
  ]);
  const first = await store.children({ from: 1, limit: store.seeds().length + 16 });
  const lineage = needs.program !== undefined ? await store.lineage(needs.program) : [];
  const byId = new Map<number, ChildRecord>();
  for (const c of [...first, ...leaders, ...families.map((f) => f.best), ...lineage]) byId.set(c.id, c);
  const info: RunInfo = { ...store.info(), status };
  const config = store.config();
  const seeds = store.seeds();
  const view: RunReader = {
    info: () => info,
    config: () => config,
    seeds: () => seeds,
    counters: (): Counters => counters,
    stats: (): SearchStats => stats,
    child: (id: number) => byId.get(id),
    children: (opts: { from?: number; limit?: number; status?: ChildStatus } = {}) =>
      first.filter((c) => c.id >= (opts.from ?? 1) && (!opts.status || c.status === opts.status)).slice(0, opts.limit ?? first.length),
    leaderboard: (limit = 10) => leaders.slice(0, limit),
    lineage: (id: number) => (id === needs.program ? lineage : []),
    metavalResults: (): MetavalRow[] => metaval,
    families: (limit = 10) => families.slice(0, limit),
    calibration: () => calibration,
  };
  return view;
}
