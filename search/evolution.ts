/**
 * Regularized evolution (Real et al. 2019), as in the Lion search: the thin
 * asynchronous driver that ties breeding, judging and committing to an
 * executor and a store.
 *
 * Children get ids 1, 2, 3, ... The first ids are the seed programs. Child i
 * (after the seeds) is bred from the state committed after child
 * max(i - batch, seeds): its parent is the winner of a tournament in that
 * population, its mutation comes from streams derived from (run seed, i), its
 * hurdle from that population. Children are judged in parallel, as fast as
 * the executor allows, and committed strictly in id order; committing child c
 * breeds child c + batch. So the run is a function of the seed and the
 * settings alone, whatever the number of workers or the order in which
 * evaluations finish, and a resumed run rebuilds the bred-but-uncommitted
 * children exactly from the stored population history.
 *
 * The parts: breeding (breed.ts), judging (judge.ts: quick, hurdle, standard,
 * retries), committing (commit.ts: a pure function of state and record),
 * meta-validation (metaval.ts). Dependencies are passed in (style:
 * AutoML-Zero): the store, the executor, the mutator, the preparer and the
 * clock, so tests run exact counts with a scripted mutator, a fake executor
 * and an in-memory store.
 */
import { ProgramCache } from './cache.js';
import type { SearchConfig } from './config.js';
import { chooseParent, mutantOffspring, prepareOffspring, SearchFault, seedOffspring } from './breed.js';
import { commitChild, withLeader, type Leader, type RunState } from './commit.js';
import type { SearchHandle } from './handle.js';
import type { HurdleMember } from './hurdle.js';
import { errorMessage } from '../dsl/errors.js';
import { EnvironmentFault, evalJob, faultRecord, judge, runJob, STOP, type Bred, type Stop } from './judge.js';
import { MetavalQueue } from './metaval.js';
import { makeMutator, type Mutator } from './mutate.js';
import { prepare as defaultPrepare, type Preparer } from './prepare.js';
import type { RunInfo, RunStore, SeedSource } from './run-store.js';
import { statsOf } from './stats.js';
import {
  ZERO_COUNTERS,
  type ChildRecord,
  type EvalJob,
  type Executor,
  type LogLevel,
  type Member,
  type SearchEvent,
  type SearchListener,
  type SearchStats,
} from './types.js';

export { SearchFault, withStateSlots } from './breed.js';
export { EnvironmentFault } from './judge.js';

export interface SearchDeps {
  store: RunStore;
  executor: Executor;
  mutator?: Mutator;
  prepare?: Preparer;
  /** Milliseconds clock (tests may pass a fake). */
  now?: () => number;
  /** The run's name and place, for a store that answers `info()` asynchronously. */
  run?: RunInfo;
}

/** What the search keeps in memory about each committed child: what the hurdle and cached copies need. */
interface Known extends HurdleMember {
  fitness: number | null;
}

export function startSearch(deps: SearchDeps): SearchHandle {
  return new Search(deps).handle();
}

class Search {
  private readonly store: RunStore;
  private readonly executor: Executor;
  private readonly now: () => number;
  private readonly info: RunInfo;

  // Set by `load`, before anything is bred.
  private config: SearchConfig | null = null;
  private seeds: SeedSource[] = [];
  private mutate: Mutator | null;
  private readonly prepare: Preparer;

  private state: RunState = { counters: ZERO_COUNTERS, population: [], leaders: [], metavalRequested: new Set() };
  private readonly known = new Map<number, Known>();
  private readonly cache = new ProgramCache();
  /** Populations after commits before the last, needed once after a resume. */
  private readonly history = new Map<number, readonly Member[]>();
  private readonly results = new Map<number, Promise<ChildRecord>>();
  private readonly settled = new Map<number, ChildRecord>();
  private nextBreed = 1;
  /** Breeding happens in id order: each child's breeding waits for the one before. */
  private breeding: Promise<void> = Promise.resolve();
  private readonly metaval: MetavalQueue;

  private readonly listeners = new Set<SearchListener>();
  private isPaused = false;
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => {};
  private stopping = false;
  private signalStop: (v: Stop) => void = () => {};
  /** The first failure of the environment: it ends the run (see environmentFault). */
  private fault: EnvironmentFault | null = null;
  private readonly stopped: Promise<Stop>;
  private readonly sessionStart: number;
  private baseElapsed = 0;
  private readonly commitTimes: number[] = [];
  readonly done: Promise<SearchStats>;

  constructor(deps: SearchDeps) {
    this.store = deps.store;
    this.executor = deps.executor;
    this.mutate = deps.mutator ?? null;
    this.prepare = deps.prepare ?? defaultPrepare;
    this.now = deps.now ?? (() => Date.now());
    this.info = deps.run ?? syncInfo(this.store);
    this.sessionStart = this.now();
    this.stopped = new Promise((r) => (this.signalStop = r));
    this.metaval = new MetavalQueue({
      child: (id) => this.store.child(id),
      job: (id, source) => evalJob(this.cfg(), id, source, 'metaval'),
      run: (job) => this.runJob(job),
      record: (id, result, failure) => this.store.setMetaval(id, result, failure),
      emit: (e) => this.emit(e),
      log: (level, message, persist) => this.log(level, message, persist),
      stopping: () => this.stopping,
    });
    this.done = new Promise<void>((r) => setImmediate(r)).then(() => this.run());
  }

  handle(): SearchHandle {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      run: this.info.name,
      dir: this.info.dir,
      subscribe: (l) => {
        self.listeners.add(l);
        return () => self.listeners.delete(l);
      },
      pause: () => self.pause(),
      resume: () => self.resume(),
      get paused() {
        return self.isPaused;
      },
      stop: () => self.stop(),
      log: (level, message, worker) => self.log(level, message, level !== 'info', worker),
      stats: () => self.stats(),
      done: this.done,
    };
  }

  private cfg(): SearchConfig {
    if (this.config === null) throw new Error('internal: the run is not loaded yet');
    return this.config;
  }

  // ---- control ---------------------------------------------------------------

  private emit(e: SearchEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A faulty watcher must not stop the search.
      }
    }
  }

  private log(level: LogLevel, message: string, persist = true, worker?: number): void {
    if (persist && !this.stopping) {
      const line = worker === undefined ? message : `[worker ${worker}] ${message}`;
      // The store may be closing; the event still goes out.
      try {
        const written = this.store.log(level, line);
        if (written instanceof Promise) written.catch(() => undefined);
      } catch {
        // as above
      }
    }
    this.emit({ type: 'log', level, message, ...(worker === undefined ? {} : { worker }) });
  }

  private pause(): void {
    if (this.isPaused || this.stopping) return;
    this.isPaused = true;
    this.gate = new Promise((r) => (this.openGate = r));
    this.emit({ type: 'paused' });
  }

  private resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.openGate();
    this.emit({ type: 'resumed' });
  }

  private async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.signalStop(STOP);
      this.openGate();
    }
    await this.done.catch(() => undefined);
  }

  stats(): SearchStats {
    const t = this.now();
    const windowMs = 60_000;
    const recent = this.commitTimes.filter((x) => t - x <= windowMs);
    const span = Math.min(windowMs, Math.max(1, t - this.sessionStart));
    return statsOf(this.state.counters, this.config?.budget ?? 0, {
      elapsedMs: this.baseElapsed + (t - this.sessionStart),
      workersBusy: this.executor.busy(),
      workers: this.executor.size,
      rate: (recent.length * 1000) / span,
    });
  }

  // ---- the run ---------------------------------------------------------------

  private async run(): Promise<SearchStats> {
    try {
      return await this.loop();
    } catch (e) {
      // The run ends on a fault (every seed failed, the disk is full...): what is committed stays, resumable.
      this.stopping = true;
      this.signalStop(STOP);
      try {
        await this.store.setStatus('stopped');
        await this.store.log('error', errorMessage(e));
      } catch {
        // the store itself failed
      }
      this.emit({ type: 'log', level: 'error', message: errorMessage(e) });
      throw e;
    }
  }

  private async loop(): Promise<SearchStats> {
    await this.load();
    const resumed = this.state.counters.committed > 0;
    this.emit({ type: 'start', run: this.info.name, resumed, budget: this.cfg().budget, workers: this.executor.size });
    await this.store.setStatus('running');

    for (const id of await this.store.pendingMetaval()) this.metaval.request(id);
    this.breedReady();

    const budget = this.cfg().budget;
    while (this.state.counters.committed < budget && !this.stopping) {
      const next = this.state.counters.committed + 1;
      const pending = this.results.get(next);
      if (!pending) throw new Error(`internal: child ${next} was never bred`);
      const rec = await Promise.race([pending, this.stopped]);
      if (rec === STOP) break;
      await this.commit(rec);
    }
    if (this.stopping) {
      // Keep every finished child that can be committed in order; the rest is redone on resume.
      for (let id = this.state.counters.committed + 1; this.settled.has(id) && id <= budget; id++) await this.commit(this.settled.get(id)!);
    } else {
      await this.metaval.drain(this.stopped);
    }
    if (this.fault) throw this.fault;
    const finished = this.state.counters.committed >= budget && !this.stopping;
    await this.store.setStatus(finished ? 'done' : 'stopped');
    const stats = this.stats();
    this.emit({ type: 'done', stats, reason: finished ? 'budget' : 'stopped' });
    return stats;
  }

  /** Reads the run from the store: settings, seeds, committed children and the populations a resume breeds from. */
  private async load(): Promise<void> {
    const config = await this.store.config();
    this.config = config;
    this.seeds = await this.store.seeds();
    if (this.seeds.length === 0) throw new Error('the run has no seed programs');
    this.mutate ??= makeMutator({ weights: config.mutationWeights, maxStatements: config.maxStatements });
    const counters = await this.store.counters();
    this.baseElapsed = counters.elapsedMs;
    let leaders: readonly Leader[] = [];
    for await (const c of this.store.iterateChildren()) {
      const src = c.cachedFrom !== null ? this.known.get(c.cachedFrom) : undefined;
      this.known.set(c.id, {
        fitness: c.fitness,
        quick: src ? src.quick : (c.quick?.fitness ?? null),
        standard: src ? src.standard : (c.standard?.fitness ?? null),
      });
      if (c.status === 'ok' || c.status === 'pruned' || c.status === 'failed') this.cache.add(c.id, c.hash, c.fingerprint);
      if (c.status === 'ok') leaders = withLeader(leaders, { id: c.id, fitness: c.fitness }, config.metavalTop);
    }
    this.state = {
      counters,
      population: await this.store.population(),
      leaders,
      metavalRequested: await this.store.metavalRequested(),
    };
    // Children committed + 1 .. committed + batch are bred from the populations after the last `batch` commits.
    const nSeeds = this.seeds.length;
    for (let n = Math.max(counters.committed + 1 - config.batch, nSeeds); n < counters.committed; n++) this.history.set(n, await this.store.population(n));
    this.nextBreed = counters.committed + 1;
  }

  /** The population after commit n: the live one, or one kept from before a resume. */
  private popAt(n: number): readonly Member[] {
    if (n === this.state.counters.committed) return this.state.population;
    const pop = this.history.get(n);
    if (!pop) throw new Error(`internal: no population after commit ${n}`);
    return pop;
  }

  /**
   * Breeds every child whose breeding state is committed, in id order. The
   * population and hurdle are taken now; the rest of breeding (reading the
   * parent, mutating, preparing) follows the previous child's.
   */
  private breedReady(): void {
    const cfg = this.cfg();
    const nSeeds = this.seeds.length;
    const c = this.state.counters.committed;
    const limit = Math.min(cfg.budget, c < nSeeds ? nSeeds : c + cfg.batch);
    while (this.nextBreed <= limit && !this.stopping) {
      const id = this.nextBreed++;
      const breed = id <= nSeeds ? this.seedBreeder(id) : this.childBreeder(id, this.popAt(Math.max(id - cfg.batch, nSeeds)));
      const bred = this.breeding.then(breed);
      this.breeding = bred.then(
        () => undefined,
        () => undefined,
      );
      const p = bred
        .then((b) => this.judge(b))
        .then((rec) => {
          this.settled.set(id, rec);
          return rec;
        });
      // Awaited in id order by the loop; a run that stops first leaves it unread.
      p.catch(() => undefined);
      this.results.set(id, p);
    }
    this.history.clear();
  }

  private seedBreeder(id: number): () => Bred {
    const seed = this.seeds[id - 1]!;
    return () => prepareOffspring(seedOffspring(id, seed, this.cfg().stateSlots ?? 0), this.prepare, this.cache);
  }

  private childBreeder(id: number, pop: readonly Member[]): () => Promise<Bred> {
    const cfg = this.cfg();
    const { parent, hurdle } = chooseParent(id, pop, cfg, (m) => this.known.get(m) ?? { quick: null, standard: null });
    return async () => {
      const parentChild = await this.store.child(parent.id);
      if (!parentChild) throw new Error(`internal: no child ${parent.id}`);
      return prepareOffspring(mutantOffspring(id, parent.id, parentChild.source, hurdle, cfg.seed, this.mutate!), this.prepare, this.cache);
    };
  }

  // ---- judging ---------------------------------------------------------------

  private runJob(job: EvalJob) {
    return runJob(
      {
        executor: this.executor,
        gate: () => this.gate,
        stopping: () => this.stopping,
        warn: (m) => this.log('warn', m),
      },
      job,
    );
  }

  /** A child's record; a child abandoned at a stop never settles (a resume redoes it). */
  private async judge(b: Bred): Promise<ChildRecord> {
    let rec: ChildRecord | Stop;
    try {
      rec = await judge(b, { config: this.cfg(), run: (job) => this.runJob(job), scoreOf: (id) => this.scoreOf(id), now: this.now });
    } catch (e) {
      if (e instanceof EnvironmentFault) return this.environmentFault(e);
      // A bug while judging a child ends that child as `failed`, not the run.
      const reason = `internal fault: ${errorMessage(e)}`;
      this.log('error', `child ${b.id}: ${reason}`);
      return faultRecord(b, reason);
    }
    if (rec === STOP) return new Promise<ChildRecord>(() => {});
    return rec;
  }

  /**
   * The machine, not the program, failed to judge a child: recording it as the
   * program's failure would change the run for good. The run stops instead,
   * keeping every child committed before it, and says why; a resume judges
   * the child again.
   */
  private environmentFault(e: EnvironmentFault): Promise<ChildRecord> {
    this.fault ??= e;
    if (!this.stopping) {
      this.stopping = true;
      this.signalStop(STOP);
      this.openGate();
    }
    return new Promise<ChildRecord>(() => {}); // never committed
  }

  /** The score of an earlier child: committed, or waited for. */
  private async scoreOf(id: number): Promise<{ fitness: number | null }> {
    const k = this.known.get(id);
    if (k) return k;
    const p = this.results.get(id);
    if (!p) throw new Error(`internal: child ${id} is neither committed nor bred`);
    return p;
  }

  // ---- commit ----------------------------------------------------------------

  private async commit(r: ChildRecord): Promise<void> {
    const rec: ChildRecord = { ...r, at: new Date().toISOString() };
    const id = rec.id;
    const out = commitChild(this.state, rec, this.cfg());
    // Time is the driver's: the elapsed total goes into the written counters.
    const counters = { ...out.state.counters, elapsedMs: this.baseElapsed + (this.now() - this.sessionStart) };
    this.remember(rec);
    await this.store.commit({ ...out.effects.commit, counters });
    this.state = { ...out.state, counters };
    this.settled.delete(id);
    this.results.delete(id);
    this.commitTimes.push(this.now());
    if (this.commitTimes.length > 1000) this.commitTimes.splice(0, this.commitTimes.length - 1000);

    for (const e of out.events) {
      if (e.type === 'child') this.emit({ type: 'child', child: e.child, stats: this.stats() });
      else if (e.type === 'best') this.emit(e);
      else this.log(e.level, e.message);
    }
    for (const i of out.effects.metaval) this.metaval.request(i);
    this.breedReady();
  }

  /** Keeps what the hurdle and cached copies need about a committed child. */
  private remember(rec: ChildRecord): void {
    const src = rec.status === 'cached' ? this.known.get(rec.cachedFrom) : undefined;
    this.known.set(rec.id, {
      fitness: rec.fitness,
      quick: src ? src.quick : (rec.quick?.fitness ?? null),
      standard: src ? src.standard : (rec.standard?.fitness ?? null),
    });
  }
}

/** The run's name and place from a store that answers at once. */
function syncInfo(store: RunStore): RunInfo {
  const info = store.info();
  if (info instanceof Promise) throw new Error('startSearch: this store answers info() asynchronously; pass the run info as deps.run');
  return info;
}
