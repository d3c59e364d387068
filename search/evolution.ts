/**
 * Regularized evolution (Real et al. 2019), as in the Lion search: the thin
 * asynchronous driver that ties breeding, judging and committing to an
 * executor and a store.
 *
 * Children get ids 1, 2, 3, ... The first ids are the seed programs. Child i
 * (after the seeds) is bred from the state committed after child
 * max(i - batch, seeds), or earlier when fewer than `ahead` children to be
 * trained are bred after that (so cache hits never leave a worker idle): its parent is the winner of a tournament in that
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
import { metavalSuiteOf, type SearchConfig } from './config.js';
import { chooseParent, mutantOffspring, prepareOffspring, seedOffspring } from './breed.js';
import { commitChild, leaderOf, withLeader, type Leader, type RunState } from './commit.js';
import type { SearchHandle } from './handle.js';
import type { HurdleMember } from './hurdle.js';
import { errorMessage } from '../dsl/errors.js';
import { EnvironmentFault, evalJob, faultRecord, isScore, judge, runJob, STOP, type Bred, type Stop } from './judge.js';
import { trainedText } from './types.js';
import { beats, noiseOf } from './selection.js';
import { ZERO_WORKER_TIME, type TimeUse, type WorkerTime } from './worker-time.js';
import { driftOf } from './commit.js';
import { MetavalQueue } from './metaval.js';
import { makeMutator, type Mutator } from './mutate.js';
import { prepare as defaultPrepare, type Preparer } from './prepare.js';
import { referenceJobKey, type ReferenceCache } from './reference-cache.js';
import type { RunInfo, RunStore, SeedSource } from './run-store.js';
import { statsOf } from './stats.js';
import { mergeParts } from './suite-result.js';
import {
  ZERO_COUNTERS,
  referenceKey,
  type Calibration,
  type Counters,
  type DoneReason,
  type SuiteName,
  type ChildRecord,
  type EvalJob,
  type EvalOutcome,
  type Executor,
  type LogLevel,
  type Member,
  type SearchEvent,
  type SearchListener,
  type SearchStats,
  type SuiteResult,
} from './types.js';

export { SearchFault } from './breed.js';
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
  /**
   * The reference program and its twin (the same rule with a change that cannot
   * matter): given, the run computes the reference results once per suite and
   * evaluation seed and stores them, measures the suite's noise from the twin,
   * and re-evaluates would-be bests on fresh seeds (search/selection.ts).
   * Without it (tests), workers compute references themselves and the noise is 0.
   */
  calibration?: { reference: string; twin: string };
  /**
   * The task names of a suite, in order: given, reference and meta-validation
   * runs go to the workers one task per job (see runSuite). Without it, one
   * job per suite.
   */
  suiteTasks?: (suite: SuiteName) => readonly string[];
  /**
   * Results of the reference and its twin kept across runs (on disk: see
   * src/reference-cache.ts): a run asks it before computing one, part by
   * part, and books no worker time for what it finds.
   */
  referenceCache?: ReferenceCache;
}

/** How many batches breeding may run ahead of the committed state, looking for new programs to train. */
export const AHEAD_LIMIT = 16;

/** Rough ratios of the reference's time on the meta-validation suite to its time on the standard and quick suites (see metavalLength). */
const METAVAL_PER = { standard: 6, quick: 150 };
/** The most children one store write commits (their events wait for it). */
const MAX_GROUP = 64;

/** Evaluation seeds kept fresh for re-evaluations and the noise: the run's seed plus 1, 2, ... */
export const REEVAL_SEEDS = 2;

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
  /** Children committed in memory whose store write is under way: breeding may already read them. */
  private readonly unwritten = new Map<number, ChildRecord>();
  private nextBreed = 1;
  /** The breeding pump (breedReady), while it runs; asked again while running, it goes round once more. */
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
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
  private readonly calibrationSources: { reference: string; twin: string } | null;
  private readonly suiteTasks: ((suite: SuiteName) => readonly string[]) | null;
  private calib: Calibration = { references: {}, noise: {} };
  /** The suite's noise: 0 until measured (and in runs without calibration). */
  private noise = 0;
  /** Resolves once the suite's noise is known (measured alongside the first children). */
  private noiseReady: Promise<void> = Promise.resolve();
  /** Whether noiseReady has resolved (a grouped commit takes only children that need not wait for it). */
  private noiseKnown = true;
  private workerTime: WorkerTime = { ...ZERO_WORKER_TIME };
  private outOfTime = false;
  /** Past `--time`: no new evaluation starts; those running finish and count (see closeAtDeadline). */
  private closing = false;
  /** Evaluations handed to the executor and not yet back: what they are and what for. */
  private readonly inFlight = new Map<Promise<unknown>, { childId: number; suite: SuiteName; use: TimeUse }>();
  /** Would-be bests whose re-evaluation came back, by id: a run that stops commits them. */
  private readonly reevaluated = new Map<number, ChildRecord>();
  /** Reference results being computed, by key: each is computed once even when asked for twice at once. */
  private readonly referencesInFlight = new Map<string, Promise<void>>();
  private readonly referenceCache: ReferenceCache | undefined;
  /** Reference parts found in the machine's cache in this session. */
  private referenceHits = 0;
  /** Milliseconds the last evaluation on the meta-validation suite took: what the next is expected to take. */
  private metavalEstimate = 0;
  /** Why meta-validation cannot run in this session, once it is known. */
  private metavalOffReason: string | null = null;
  private finishing = false;
  private deadlineTimer: ReturnType<typeof setTimeout> | null = null;
  /** Children that are (or will be) trained: not cache hits, not invalid, in id order. */
  private readonly novelIds: number[] = [];
  readonly done: Promise<SearchStats>;

  constructor(deps: SearchDeps) {
    this.store = deps.store;
    this.executor = deps.executor;
    this.mutate = deps.mutator ?? null;
    this.prepare = deps.prepare ?? defaultPrepare;
    this.now = deps.now ?? (() => Date.now());
    this.info = deps.run ?? syncInfo(this.store);
    this.sessionStart = this.now();
    this.calibrationSources = deps.calibration ?? null;
    this.suiteTasks = deps.suiteTasks ?? null;
    this.referenceCache = deps.referenceCache;
    this.stopped = new Promise((r) => (this.signalStop = r));
    this.metaval = new MetavalQueue({
      child: (id) => this.unwritten.get(id) ?? this.store.child(id),
      job: (id, source) => evalJob(this.cfg(), id, source, metavalSuiteOf(this.cfg())),
      run: (job) => this.runSuite(job, 'metaval', { between: () => this.metavalTurn() }),
      turn: async () => {
        if (!(await this.metavalTurn())) return false;
        await this.ensureReference(metavalSuiteOf(this.cfg()), this.cfg().evalSeed, false, 'metaval');
        if (this.calibrationSources && !this.calib.references[referenceKey(metavalSuiteOf(this.cfg()), this.cfg().evalSeed)]) {
          // Without AdamW's results on the held-out suite, each meta-validation would compute them again.
          this.metavalOff('the reference results on the meta-validation suite are missing');
          return false;
        }
        // The reference's time on this suite is now known: the next one is expected to take as long.
        return this.metavalTurn();
      },
      record: (id, result, failure) => this.store.setMetaval(id, result, failure),
      emit: (e) => this.emit(e),
      log: (level, message, persist) => this.log(level, message, persist),
      stopping: () => this.stopping,
      rank: (id) => this.state.leaders.find((l) => l.id === id)?.fitness ?? null,
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
    return this.statsAt(this.state.counters);
  }

  /** The figures as of these counters (a child's own, for its event after a grouped commit). */
  private statsAt(counters: Counters): SearchStats {
    const t = this.now();
    const windowMs = 60_000;
    const recent = this.commitTimes.filter((x) => t - x <= windowMs);
    const span = Math.min(windowMs, Math.max(1, t - this.sessionStart));
    const time = this.config?.time;
    const suite = this.config?.suite;
    return {
      ...statsOf(counters, this.config?.budget ?? 0, {
        elapsedMs: this.baseElapsed + (t - this.sessionStart),
        workersBusy: this.executor.busy(),
        workers: this.executor.size,
        rate: (recent.length * 1000) / span,
      }),
      ...(time !== undefined ? { timeMs: time } : {}),
      workerTime: this.liveWorkerTime(),
      inProgress: this.executor.inProgress?.() ?? [],
      noise: this.calibrationSources && suite && this.calib.noise[suite] ? this.noise : null,
      bestHeld: counters.bestHeld,
    };
  }

  /** Worker time with the capacity of this session so far. */
  private liveWorkerTime(): WorkerTime {
    return { ...this.workerTime, capacity: this.workerTime.capacity + this.executor.size * Math.max(0, this.now() - this.sessionStart) };
  }

  private book(use: TimeUse, ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.workerTime = { ...this.workerTime, [use]: this.workerTime[use] + ms };
  }

  private elapsed(): number {
    return this.baseElapsed + (this.now() - this.sessionStart);
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
    this.startDeadline();

    const budget = this.cfg().budget;
    try {
      // A stop (or the deadline) does not wait for the references: what runs of them is abandoned.
      const calibrated = this.calibrate();
      calibrated.catch(() => undefined); // after a stop nobody awaits it
      await Promise.race([calibrated, this.stopped]);
      for (const id of await this.store.pendingMetaval()) this.metaval.request(id);
      this.breedReady();

      while (this.state.counters.committed < budget && !this.stopping) {
        const next = this.state.counters.committed + 1;
        const pending = await this.bredResult(next);
        if (pending === STOP) break;
        let rec = await Promise.race([pending.record, this.stopped]);
        if (rec === STOP) break;
        // Past the seeds, the lead depends on the noise: a child that could lead waits for it; one that
        // does not beat the held best at all commits at once (the noise cannot change what it does).
        if (next > this.seeds.length && this.wouldLead(rec, 0) && (await Promise.race([this.noiseReady, this.stopped])) === STOP) break;
        if (this.wouldLead(rec)) {
          const confirmed = await Promise.race([this.reevaluate(rec), this.stopped]);
          if (confirmed === STOP) break;
          rec = confirmed;
        }
        await this.commit(rec);
      }
      if (this.stopping) {
        // Keep every finished child that can be committed in order (a would-be best only once
        // re-evaluated); the rest is redone on resume.
        for (let id = this.state.counters.committed + 1; id <= budget; id++) {
          const rec = this.reevaluated.get(id) ?? this.settled.get(id);
          if (rec === undefined || this.wouldLead(rec)) break;
          await this.commit(rec);
        }
      } else {
        this.finishing = true;
        await this.metaval.drain(this.stopped);
      }
    } finally {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    }
    this.bookAbandoned();
    if (this.fault) throw this.fault;
    const reason: DoneReason = this.outOfTime ? 'time' : this.state.counters.committed >= budget && !this.stopping ? 'budget' : 'stopped';
    await this.store.setStatus(reason === 'stopped' ? 'stopped' : 'done');
    await this.saveTime();
    const stats = this.stats();
    this.emit({ type: 'done', stats, reason });
    return stats;
  }

  /**
   * A reference or meta-validation job running when the run stops is
   * abandoned (a resume runs it again), but its worker was not idle: the time
   * it ran is booked to its use. (A child's job abandoned at a stop stays
   * unbooked: its program is trained again on resume.)
   */
  private bookAbandoned(): void {
    if (!this.stopping) return;
    const uses = new Map<string, TimeUse>();
    for (const j of this.inFlight.values()) if (j.use === 'reference' || j.use === 'metaval') uses.set(`${j.childId}/${j.suite}`, j.use);
    for (const p of this.executor.inProgress?.() ?? []) {
      const use = uses.get(`${p.childId}/${p.suite}`);
      if (use) this.book(use, p.ms);
    }
  }

  /** Worker time and elapsed time, written at the end of a session. */
  private async saveTime(): Promise<void> {
    try {
      await this.store.saveCounters({ ...this.state.counters, elapsedMs: this.elapsed(), workerTime: this.liveWorkerTime() });
    } catch {
      // the store is closing: the last commit's counters stand
    }
  }

  /** `--time`: at the deadline the run ends as a stop does (finished children committed, the rest redone on resume). */
  private startDeadline(): void {
    const limit = this.cfg().time;
    if (limit === undefined) return;
    const left = limit - this.elapsed();
    const end = () => {
      if (this.stopping || this.closing) return;
      this.outOfTime = true;
      void this.closeAtDeadline();
    };
    if (left <= 0) end();
    else this.deadlineTimer = setTimeout(end, left);
  }

  /**
   * The run is out of time. With an executor that can cancel jobs not yet
   * begun, nothing new starts and the children's evaluations running now
   * finish: their children are committed (in id order, as far as they reach)
   * and their time counts, so the run ends at the deadline plus at most one
   * evaluation per worker instead of throwing that work away. Reference and
   * meta-validation jobs are not waited for (a part of a suite is of no use
   * until the rest is done, and the held-out tasks take minutes): they are
   * abandoned, their time so far booked. Then the run stops as `stop` does.
   */
  private async closeAtDeadline(): Promise<void> {
    this.closing = true;
    if (this.executor.cancelQueued && !this.isPaused) {
      this.executor.cancelQueued();
      const running = () => [...this.inFlight].filter(([, j]) => j.use === 'novel' || j.use === 'reeval').map(([p]) => p);
      while (running().length > 0 && !this.stopping) await Promise.race([Promise.allSettled(running()), this.stopped]);
      // Let what came back reach its record (judging, re-evaluation, meta-validation) before the stop.
      await new Promise((r) => setImmediate(r));
    }
    if (this.stopping) return;
    this.stopping = true;
    this.signalStop(STOP);
    this.openGate();
  }

  // ---- calibration: references once per run, the suite's noise ----------------

  private reevalSeed(i: number): number {
    return this.cfg().evalSeed + 1 + i;
  }

  /**
   * Reference results for every suite and seed the run evaluates on, and the
   * suite's noise, computed once and stored. The children wait only for the
   * references at the run's own seed; the rest runs alongside the first ones.
   */
  private async calibrate(): Promise<void> {
    if (!this.calibrationSources) return;
    this.calib = await this.store.calibration();
    const suite = this.cfg().suite;
    const own: SuiteName[] = suite === 'quick' ? ['quick'] : ['quick', suite];
    // The children's references go first (every child waits for them); the noise's references and twins
    // start now too, behind them, so that no worker waits while they run.
    const ownRefs = Promise.all(own.map((su) => this.ensureReference(su, this.cfg().evalSeed, true)));
    this.noiseKnown = false;
    this.noiseReady = this.measureNoise()
      .catch((e: unknown) => {
        if (!this.stopping) this.log('error', `noise measurement: ${errorMessage(e)}`);
      })
      .then(() => {
        this.noiseKnown = true;
      });
    await ownRefs;
  }

  private async measureNoise(): Promise<void> {
    const src = this.calibrationSources!;
    const suite = this.cfg().suite;
    const seeds = [this.cfg().evalSeed, ...Array.from({ length: REEVAL_SEEDS }, (_, i) => this.reevalSeed(i))];
    await Promise.all(seeds.map((seed) => this.ensureReference(suite, seed)));
    if (this.stopping || this.closing) return;
    const known = this.calib.noise[suite];
    if (known) {
      this.noise = known.noise;
      return;
    }
    const twins = await Promise.all(
      seeds.map(async (seed) => {
        const out = await this.runSuite({ ...evalJob(this.cfg(), 0, src.twin, suite), seed }, 'reference', { cached: true });
        if (out === STOP) return null;
        return out.ok && isScore(out.result.fitness) ? out.result.fitness : null;
      }),
    );
    // A twin cut off by the end of the run would leave the noise measured on fewer seeds: a resume measures it.
    if (this.stopping || this.closing) return;
    const samples = twins.filter((x): x is number => x !== null);
    this.noise = noiseOf(samples);
    this.calib = { ...this.calib, noise: { ...this.calib.noise, [suite]: { noise: this.noise, samples } } };
    await this.store.setCalibration(this.calib);
    this.log('info', `${suite} suite noise ${this.noise.toFixed(4)} (AdamW's twin on ${samples.length} evaluation seeds)`);
  }

  /**
   * The reference results of a suite at a seed: stored, or computed now and
   * stored. Their time is reference time, except on the meta-validation
   * suite, where it is the price of meta-validating: booked as metaval, and
   * within its share.
   */
  private ensureReference(suite: SuiteName, seed: number, urgent = false, use: TimeUse = 'reference'): Promise<void> {
    const key = referenceKey(suite, seed);
    if (!this.calibrationSources || this.calib.references[key]) return Promise.resolve();
    let p = this.referencesInFlight.get(key);
    if (!p) {
      p = this.computeReference(suite, seed, urgent, use).finally(() => this.referencesInFlight.delete(key));
      this.referencesInFlight.set(key, p);
    }
    return p;
  }

  private async computeReference(suite: SuiteName, seed: number, urgent: boolean, use: TimeUse): Promise<void> {
    const src = this.calibrationSources!;
    const key = referenceKey(suite, seed);
    const job: EvalJob = { ...evalJob(this.cfg(), 0, src.reference, suite), seed, score: false, ...(urgent ? { urgent } : {}) };
    const metaval = use === 'metaval';
    const hits = this.referenceHits;
    const out = await this.runSuite(job, metaval ? 'metaval' : 'reference', { cached: true, ...(metaval ? { between: () => this.metavalTurn() } : {}) });
    if (out === STOP) return;
    if (!out.ok) {
      this.log('warn', `reference results for the ${suite} suite (seed ${seed}) failed: ${out.reason}${metaval ? '' : '; workers will compute them'}`);
      // Cut off at its share, it took at least that long: a later session need not try again with less.
      if (metaval && out.timedOut === true && out.ms !== undefined) {
        this.calib = { ...this.calib, ms: { ...this.calib.ms, [key]: Math.max(out.ms, this.calib.ms?.[key] ?? 0) } };
        await this.store.setCalibration(this.calib);
      }
      return;
    }
    if (this.referenceHits > hits) this.log('info', `reference results for the ${suite} suite (seed ${seed}): ${this.referenceHits - hits} of ${Math.max(1, this.suiteTasks?.(suite).length ?? 1)} parts from this machine's cache`);
    const refs: Calibration['references'][string] = {};
    for (const t of out.result.tasks) refs[t.task] = { lr: t.lr, loss: t.loss, metric: t.metric, ...(t.failure !== undefined ? { failure: t.failure } : {}) };
    // On the meta-validation suite, what one job takes: its longest task when they run one per job.
    const parted = metaval && (this.suiteTasks?.(suite).length ?? 0) > 1;
    const ms = parted ? Math.max(0, ...out.result.tasks.map((t) => t.ms)) : out.result.ms;
    this.calib = { ...this.calib, references: { ...this.calib.references, [key]: refs }, ms: { ...this.calib.ms, [key]: ms } };
    await this.store.setCalibration(this.calib);
  }

  /**
   * Waits until a meta-validation can start; at the end of a run's budget the
   * share no longer binds (nothing else wants the workers). False: it cannot
   * start in this session.
   */
  private async metavalTurn(): Promise<boolean> {
    for (;;) {
      if (this.stopping || this.closing || this.metavalOffReason !== null) return false;
      if (this.finishing) return true;
      const left = this.metavalAllowance();
      const d = this.metavalLength();
      if (left !== null && left <= Math.max(d, 1000)) {
        this.metavalOff(
          `what is left of its share of --time (${Math.round(Math.max(0, left) / 1000)} s of worker time) is less than one evaluation on the held-out suite` +
            (d > 0 ? ` (${this.metavalEstimate > 0 ? '' : 'about '}${Math.round(d / 1000)} s)` : ''),
        );
        return false;
      }
      if (this.metavalFits()) return true;
      await Promise.race([new Promise((r) => setTimeout(r, 250)), this.stopped]);
    }
  }

  /**
   * What the next job on the meta-validation suite is expected to take: the
   * last one's length in this session; before any, at least what the
   * reference took there in earlier sessions, and a rough guess from its time on
   * the search suites (the held-out tasks are larger versions of the standard
   * ones: measured on a 2-core CPU machine, AdamW took about 6 times as long
   * on them as on the standard suite, and about 150 times as long as on the
   * quick suite), divided among its tasks when they run one per job. The
   * guess only decides when the first one may start.
   */
  private metavalLength(): number {
    if (this.metavalEstimate > 0) return this.metavalEstimate;
    const seed = this.cfg().evalSeed;
    const held = metavalSuiteOf(this.cfg());
    const ms = (suite: SuiteName) => this.calib.ms?.[referenceKey(suite, seed)];
    const ratio = held === 'metaval' ? METAVAL_PER : { standard: 1, quick: METAVAL_PER.quick / METAVAL_PER.standard };
    const standard = held === 'standard' ? undefined : ms('standard');
    const quick = ms('quick');
    const guess = standard !== undefined ? ratio.standard * standard : quick !== undefined ? ratio.quick * quick : 0;
    // Run one task per job (runSuite), a meta-validation is checked against its share task by task.
    const parts = Math.max(1, this.suiteTasks?.(held).length ?? 1);
    return Math.max(guess / parts, ms(held) ?? 0);
  }

  private metavalOff(reason: string): void {
    if (this.metavalOffReason !== null) return;
    this.metavalOffReason = reason;
    this.log('info', `meta-validation stops for this session: ${reason}; the requests stay pending for a resume (more --time, or a larger --metaval-share)`);
  }

  /**
   * Worker time meta-validation may still spend in a run with `--time`: its
   * share of the whole run's capacity, less what it spent (null without --time).
   */
  private metavalAllowance(): number | null {
    const cfg = this.cfg();
    if (cfg.time === undefined) return null;
    return (cfg.metavalShare ?? 0.2) * this.executor.size * cfg.time - this.liveWorkerTime().metaval;
  }

  /**
   * A job on the meta-validation suite may run at most what is left of its
   * share: the first one's length is unknown, and the held-out tasks can take
   * a small run's whole budget.
   */
  private metavalJob(job: EvalJob): EvalJob {
    const left = this.metavalAllowance();
    return left === null ? job : { ...job, limitMs: Math.max(1000, Math.floor(left)) };
  }

  /**
   * Whether one more meta-validation, as long as the last one, keeps
   * meta-validation within its share of the workers' time (`metavalShare`,
   * default 0.2) when it ends, and ends before `--time`: a cap on what is
   * spent, not on what has been spent before the next one starts.
   */
  private metavalFits(): boolean {
    const cfg = this.cfg();
    const d = this.metavalLength();
    if (cfg.time !== undefined && this.elapsed() + d > cfg.time) return false;
    const t = this.liveWorkerTime();
    return t.metaval + d <= (cfg.metavalShare ?? 0.2) * (t.capacity + this.executor.size * d);
  }

  // ---- the lead: noise-aware, held on a fresh seed ------------------------------

  /** A child that would become the best if it holds up on a fresh seed: it must be re-evaluated first. */
  private wouldLead(rec: ChildRecord, noise = this.noise): boolean {
    // The seeds start the race: the best of them leads, plainly.
    if (!this.calibrationSources || rec.reeval !== undefined || rec.id <= this.seeds.length) return false;
    const c = this.state.counters;
    const held = c.bestHeld ?? c.bestFitness;
    return rec.status === 'ok' && !driftOf(rec) && held !== null && beats(rec.fitness, held, noise);
  }

  private async reevaluate(rec: ChildRecord): Promise<ChildRecord> {
    const seed = this.reevalSeed(rec.id % REEVAL_SEEDS);
    const out = await this.runJob({ ...evalJob(this.cfg(), rec.id, trainedText(rec), this.cfg().suite), seed, urgent: true }, 'reeval');
    if (out === STOP) return new Promise<ChildRecord>(() => {});
    if (!out.ok) this.log('warn', `re-evaluation of child ${rec.id} failed: ${out.reason}`);
    const done: ChildRecord = { ...rec, reeval: out.ok ? out.result : null };
    this.reevaluated.set(rec.id, done);
    return done;
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
    this.workerTime = { ...ZERO_WORKER_TIME, ...counters.workerTime };
    let leaders: readonly Leader[] = [];
    for await (const c of this.store.iterateChildren()) {
      const src = c.cachedFrom !== null ? this.known.get(c.cachedFrom) : undefined;
      this.known.set(c.id, {
        fitness: c.fitness,
        quick: src ? src.quick : (c.quick?.fitness ?? null),
        standard: src ? src.standard : (c.standard?.fitness ?? null),
      });
      if (c.status === 'ok' || c.status === 'pruned' || c.status === 'failed') {
        this.cache.add(c.id, c.hash, c.fingerprint);
        this.novelIds.push(c.id);
      }
      if (c.status === 'ok') leaders = withLeader(leaders, leaderOf(c), config.metavalTop);
    }
    this.state = {
      counters,
      population: await this.store.population(),
      leaders,
      metavalRequested: await this.store.metavalRequested(),
    };
    // Children committed + 1 .. committed + batch are bred from the populations after the last `batch` commits.
    const nSeeds = this.seeds.length;
    // With `ahead`, breeding may reach further back: to the commit the next child is bred from.
    const first = Math.min(counters.committed + 1 - config.batch, this.breedFrom(counters.committed + 1));
    for (let n = Math.max(first, nSeeds); n < counters.committed; n++) this.history.set(n, await this.store.population(n));
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
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
    });
  }

  /**
   * Breeds, in id order, every child whose breeding state is committed.
   * Sequential and asynchronous: whether child i can be bred depends on which
   * children before it are cache hits (`breedFrom`), known once they are bred.
   */
  private async pump(): Promise<void> {
    const cfg = this.cfg();
    const nSeeds = this.seeds.length;
    do {
      this.pumpAgain = false;
      while (this.nextBreed <= cfg.budget && !this.stopping) {
        const id = this.nextBreed;
        if (id > nSeeds && this.breedFrom(id) > this.state.counters.committed) break;
        this.nextBreed++;
        let b: Bred;
        try {
          b = await (id <= nSeeds ? this.seedBreeder(id) : this.childBreeder(id, this.popAt(this.breedFrom(id))))();
        } catch (e) {
          // A fault of breeding (no seed could be trained...) ends the run through the loop.
          const failed = Promise.reject(e instanceof Error ? e : new Error(String(e)));
          failed.catch(() => undefined);
          this.results.set(id, failed);
          return;
        }
        if (b.prepared.ok && b.cachedFrom === null) this.novelIds.push(id);
        // Long runs of cache hits breed in microtasks: let timers (the deadline, the dashboard) in.
        if (id % 64 === 0) await new Promise((r) => setImmediate(r));
        const p = this.judge(b).then((rec) => {
          this.settled.set(id, rec);
          return rec;
        });
        // Awaited in id order by the loop; a run that stops first leaves it unread.
        p.catch(() => undefined);
        this.results.set(id, p);
      }
    } while (this.pumpAgain && !this.stopping);
    // Populations no child will be bred from again.
    const oldest = Math.min(this.breedFrom(this.nextBreed), this.state.counters.committed);
    for (const n of this.history.keys()) if (n < oldest) this.history.delete(n);
  }

  /** The promise of a child's record, once the child is bred (breeding runs ahead asynchronously). */
  private async bredResult(id: number): Promise<{ record: Promise<ChildRecord> } | Stop> {
    for (;;) {
      const p = this.results.get(id);
      // Wrapped: an async function returning a promise would wait for it, past a stop.
      if (p) return { record: p };
      if (this.stopping) return STOP;
      this.breedReady();
      const pumping = this.pumping;
      if (!pumping) throw new Error(`internal: child ${id} was never bred`);
      await Promise.race([pumping, this.stopped]);
      if (!this.results.has(id) && this.pumping === null && !this.stopping) {
        this.breedReady();
        if (!this.results.has(id) && this.pumping === null) throw new Error(`internal: child ${id} was never bred`);
      }
    }
  }

  private seedBreeder(id: number): () => Bred {
    const seed = this.seeds[id - 1]!;
    return () => prepareOffspring(seedOffspring(id, seed, this.cfg().stateSlots ?? 0), this.prepare, this.cache);
  }

  private childBreeder(id: number, pop: readonly Member[]): () => Promise<Bred> {
    const cfg = this.cfg();
    const { parent, hurdle } = chooseParent(id, pop, cfg, (m) => this.known.get(m) ?? { quick: null, standard: null });
    return async () => {
      const parentChild = this.unwritten.get(parent.id) ?? (await this.store.child(parent.id));
      if (!parentChild) throw new Error(`internal: no child ${parent.id}`);
      return prepareOffspring(mutantOffspring(id, parent.id, parentChild.source, hurdle, cfg.seed, this.mutate!), this.prepare, this.cache);
    };
  }

  // ---- judging ---------------------------------------------------------------

  /**
   * The commit child `id` is bred from: `id - batch`, or earlier when fewer
   * than `ahead` children among those bred since would be trained (the rest
   * being cache hits and invalid children, which cost nothing): so the
   * workers always have `ahead` new programs to train. A function of the
   * children's ids and cache statuses alone, so runs stay deterministic.
   */
  private breedFrom(id: number): number {
    const cfg = this.cfg();
    let k = id - cfg.batch;
    if (cfg.ahead !== undefined) {
      const n = this.novelIds.length;
      k = Math.min(k, n < cfg.ahead ? this.seeds.length : this.novelIds[n - cfg.ahead]!);
      // However rare new programs are, breeding reaches at most AHEAD_LIMIT batches back.
      k = Math.max(k, id - AHEAD_LIMIT * cfg.batch);
    }
    return Math.max(k, this.seeds.length);
  }

  /** Runs a job with the run's reference results for its suite and seed, booking its worker time to `use`. */
  private async runJob(job: EvalJob, use: TimeUse) {
    const refs = job.score === false ? undefined : this.calib.references[referenceKey(job.suite, job.seed)];
    const t0 = this.now();
    const out = await runJob(
      {
        executor: { evaluate: (j) => this.track(this.executor.evaluate(j), { childId: j.childId, suite: j.suite, use }) },
        gate: () => this.gate,
        stopping: () => this.stopping,
        closing: () => this.closing,
        warn: (m) => this.log('warn', m),
      },
      refs ? { ...job, references: refs } : job,
    );
    if (out !== STOP) {
      const ms = out.ok ? out.result.ms : (out.ms ?? this.now() - t0);
      this.book(use, ms);
      if (use === 'metaval' && out.ok) this.metavalEstimate = ms;
    }
    return out;
  }

  /** Keeps an evaluation in `inFlight` until it is back. */
  private track<T>(p: Promise<T>, what: { childId: number; suite: SuiteName; use: TimeUse }): Promise<T> {
    this.inFlight.set(p, what);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  /**
   * A reference or meta-validation run of a whole suite, one job per task: a
   * heavy suite (meta-validation takes minutes per task on one core) then
   * never holds a worker for the whole suite, and the children's jobs queued
   * meanwhile run between its parts. With one worker this is what keeps the
   * search going during meta-validation. `between` runs before each part
   * (meta-validation waits there for its share of the workers' time). The
   * merged result is the one a single job would give.
   */
  private async runSuite(job: EvalJob, use: TimeUse, opts: { between?: () => Promise<boolean>; cached?: boolean } = {}): Promise<EvalOutcome | Stop> {
    const { between, cached = false } = opts;
    // A part on the meta-validation suite runs at most what is left of its share (see metavalJob).
    const run = (j: EvalJob) => this.runJob(use === 'metaval' ? this.metavalJob(j) : j, use);
    // The reference's parts: what the machine's cache has is not run, and it waits for no turn.
    const fromCache = async (j: EvalJob): Promise<SuiteResult | undefined> => (cached ? await this.referenceCache?.get(referenceJobKey(j)) : undefined);
    const runPart = async (j: EvalJob): Promise<EvalOutcome | Stop> => {
      const hit = await fromCache(j);
      if (hit) {
        this.referenceHits++;
        return { ok: true, result: hit };
      }
      if ((await between?.()) === false) return STOP;
      if (this.stopping || this.closing) return STOP;
      const out = await run(j);
      if (cached && out !== STOP && out.ok) await this.referenceCache?.put(referenceJobKey(j), out.result);
      return out;
    };
    const names = this.suiteTasks?.(job.suite) ?? [];
    if (names.length < 2) return runPart(job);
    const parts: SuiteResult[] = [];
    for (const task of names) {
      const out = await runPart({ ...job, tasks: [task] });
      if (out === STOP || !out.ok) return out;
      parts.push(out.result);
    }
    return { ok: true, result: mergeParts(job.suite, parts) };
  }

  /** A child's record; a child abandoned at a stop never settles (a resume redoes it). */
  private async judge(b: Bred): Promise<ChildRecord> {
    let rec: ChildRecord | Stop;
    try {
      rec = await judge(b, { config: this.cfg(), run: (job) => this.runJob(job, 'novel'), scoreOf: (id) => this.scoreOf(id), now: this.now });
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

  /**
   * Commits `first`, and with it every later child already finished that can
   * follow it now (in id order: not a would-be best, which waits for its
   * re-evaluation, and not before the noise is known), in one store write.
   * Children finished together cost one durable write, not one each: on a
   * database server a write is a round trip and a disk flush. What the store
   * holds is still a prefix of the run; events follow the write.
   */
  private async commit(first: ChildRecord): Promise<void> {
    const staged = [this.stage(first)];
    const budget = this.cfg().budget;
    for (let id = this.state.counters.committed + 1; staged.length < MAX_GROUP && id <= budget; id++) {
      const rec = this.settled.get(id);
      // Before the noise is known it counts as 0: a child that would lead even then waits for it (see loop).
      if (!rec || this.wouldLead(rec, this.noiseKnown ? this.noise : 0)) break;
      staged.push(this.stage(rec));
    }
    const commits = staged.map((s) => s.commit);
    for (const k of commits) this.unwritten.set(k.child.id, k.child);
    if (commits.length === 1) await this.store.commit(commits[0]!);
    else await this.store.commitMany(commits);
    for (const k of commits) this.unwritten.delete(k.child.id);
    for (const s of staged) {
      this.commitTimes.push(this.now());
      for (const e of s.events) {
        if (e.type === 'child') this.emit({ type: 'child', child: e.child, stats: this.statsAt(s.commit.counters) });
        else if (e.type === 'best') this.emit(e);
        else this.log(e.level, e.message);
      }
      for (const i of s.metaval) this.metaval.request(i);
    }
    if (this.commitTimes.length > 1000) this.commitTimes.splice(0, this.commitTimes.length - 1000);
    this.breedReady();
  }

  /** Applies one child to the state in memory (the pure commit), returning what the store and listeners get. */
  private stage(r: ChildRecord) {
    const rec: ChildRecord = { ...r, at: new Date().toISOString() };
    const id = rec.id;
    const out = commitChild(this.state, rec, { ...this.cfg(), noise: this.noise, calibrated: this.calibrationSources !== null });
    // Time is the driver's: the elapsed total and the workers' time go into the written counters.
    const counters = { ...out.state.counters, elapsedMs: this.elapsed(), workerTime: this.liveWorkerTime() };
    this.remember(rec);
    // The population before this commit stays reachable for children bred from it (see breedFrom).
    this.history.set(this.state.counters.committed, this.state.population);
    this.state = { ...out.state, counters };
    this.settled.delete(id);
    this.reevaluated.delete(id);
    this.results.delete(id);
    return { commit: { ...out.effects.commit, counters }, events: out.events, metaval: out.effects.metaval };
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
