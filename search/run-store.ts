/**
 * What the search needs from the place a run is kept, and nothing more.
 *
 * The search reads the run once when it starts (settings, seeds, counters,
 * committed children, population history, meta-validation requests), then
 * writes one commit per child, meta-validation results, its status and log
 * lines. `SqliteRunStore` (search/store.ts) keeps a run in one SQLite file;
 * `MemoryRunStore` (search/memory-store.ts) keeps it in memory for tests; a
 * database server can sit behind the same interface.
 *
 * Every method may answer now or later (`Awaitable`): the search awaits each,
 * so an asynchronous store (a database over the network) needs no change in
 * the search, and a synchronous one (SQLite) no promise machinery.
 *
 * Contract:
 * - `commit` is atomic and children come in id order (1, 2, 3, ...): a store
 *   rejects any other id. After a crash the store holds a prefix of children.
 * - `commitMany` writes consecutive commits as one atomic write: all or none
 *   (the search groups children finished together, so that a database pays
 *   one round trip and one disk flush for them).
 * - `population(n)` is the population after commit n, oldest first, rebuilt
 *   from the history that the commits' `add` and `remove` lists wrote.
 * - `counters()` are the ones of the last commit.
 */
import type { SearchConfig } from './config.js';
import type { Calibration, ChildRecord, Counters, LogLevel, Member, SuiteResult } from './types.js';

export type Awaitable<T> = T | Promise<T>;

export type RunStatus = 'running' | 'stopped' | 'done';

export interface RunInfo {
  name: string;
  /** Where the run is kept (a directory, or a database's name for the run). */
  dir: string;
}

export interface SeedSource {
  /** The name or path given in `--seeds`. */
  name: string;
  source: string;
}

/** What one commit writes, atomically. */
export interface Commit {
  child: ChildRecord;
  /** Members added by this commit (the child itself, or the best program at a restart). */
  add: { id: number; fitness: number }[];
  /** Children whose stay ends at this commit (oldest removed, or everyone at a restart). */
  remove: number[];
  counters: Counters;
  /** Children to meta-validate, requested at this commit. */
  metaval: number[];
}

export interface RunStore {
  info(): Awaitable<RunInfo>;
  /** The run's settings, validated. */
  config(): Awaitable<SearchConfig>;
  /** The seed programs' source as it was when the run began. */
  seeds(): Awaitable<SeedSource[]>;
  counters(): Awaitable<Counters>;
  /** Every committed child, in id order. */
  iterateChildren(): Iterable<ChildRecord> | AsyncIterable<ChildRecord>;
  child(id: number): Awaitable<ChildRecord | undefined>;
  /** The population after commit `at` (default: the last), oldest first. */
  population(at?: number): Awaitable<Member[]>;
  /** Ids ever requested for meta-validation (done, failed or pending). */
  metavalRequested(): Awaitable<Set<number>>;
  /** Ids requested for meta-validation and not scored yet, in request order. */
  pendingMetaval(): Awaitable<number[]>;

  commit(c: Commit): Awaitable<void>;
  /** Consecutive commits, in id order, written atomically together. */
  commitMany(cs: readonly Commit[]): Awaitable<void>;
  /** A meta-validation result (or its failure) for a requested child. */
  setMetaval(id: number, result: SuiteResult | null, failure?: string): Awaitable<void>;
  setStatus(status: RunStatus): Awaitable<void>;
  /** Reference results and noise measured so far (search/evolution.ts: calibration); empty for a new run. */
  calibration(): Awaitable<Calibration>;
  setCalibration(c: Calibration): Awaitable<void>;
  /** Counters written outside a commit: worker and elapsed time at the end of a session. */
  saveCounters(c: Counters): Awaitable<void>;
  log(level: LogLevel, message: string): Awaitable<void>;
}
