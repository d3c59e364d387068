/**
 * Regularized evolution (Real et al. 2019), as in the Lion search.
 *
 * Children get ids 1, 2, 3, ... The first ids are the seed programs. Child i
 * (after the seeds) is bred from the state committed after child
 * max(i - batch, seeds), or earlier (see `ahead` below): its parent is the winner of a tournament in that
 * population, its mutation comes from streams derived from (run seed, i), its
 * hurdle from that population. Children are evaluated in parallel, as fast as
 * the executor allows, and committed strictly in id order; committing child c
 * breeds child c + batch. So the run is a function of the seed and the
 * settings alone, whatever the number of workers or the order in which
 * evaluations finish, and a resumed run rebuilds the bred-but-uncommitted
 * children exactly from the stored population history.
 *
 * Dependencies are passed in (style: AutoML-Zero): the store, the executor,
 * the mutator and the preparer (check + simplify + hashes), so tests run exact
 * counts with a fake executor.
 */
import { stateSlots, type Program } from '../dsl/ast.js';
import { parse } from '../dsl/parse.js';
import { flatten } from '../dsl/flatten.js';
import { print } from '../dsl/print.js';
import { ProgramCache } from './cache.js';
import type { SearchConfig } from './config.js';
import type { SearchHandle } from './handle.js';
import { hurdleFor, passes, type Hurdle } from './hurdle.js';
import { makeMutator, type Mutator } from './mutate.js';
import { addMember, tournament } from './population.js';
import { prepare as defaultPrepare, type Prepared, type Preparer } from './prepare.js';
import { Rng } from './rng.js';
import { statsOf } from './stats.js';
import { referenceKey, type Calibration, type Counters, type Member, type RunStore } from './store.js';
import { beats, heldFitness, noiseOf } from './selection.js';
import { ZERO_WORKER_TIME, type TimeUse, type WorkerTime } from './worker-time.js';
import type {
  ChildRecord,
  ChildStatus,
  EvalJob,
  EvalOutcome,
  Executor,
  MutationKind,
  SearchEvent,
  SearchListener,
  SearchStats,
  SuiteName,
  SuiteResult,
  DoneReason,
} from './types.js';

export interface SearchDeps {
  store: RunStore;
  executor: Executor;
  mutator?: Mutator;
  prepare?: Preparer;
  /** Milliseconds clock (tests may pass a fake). */
  now?: () => number;
  /**
   * The reference program and its twin (the same rule with a change that cannot
   * matter): given, the run computes the reference results once per suite and
   * evaluation seed and stores them, measures the suite's noise from the twin,
   * and re-evaluates would-be bests on fresh seeds (search/selection.ts).
   * Without it (tests), workers compute references themselves and the noise is 0.
   */
  calibration?: { reference: string; twin: string };
}

/** Evaluation seeds kept fresh for re-evaluations and the noise: the run's seed plus 1, 2, ... */
export const REEVAL_SEEDS = 2;

/** A child bred and waiting for (or under) evaluation. */
interface Bred {
  id: number;
  parent: number | null;
  mutation: MutationKind;
  detail: string;
  source: string;
  prepared: Prepared;
  cachedFrom: number | null;
  /** Seeds run every stage; other children face the hurdle. */
  hurdle: Hurdle | null;
}

/** What the search keeps in memory about each committed child. */
interface Known {
  status: ChildStatus;
  fitness: number | null;
  quick: number | null;
  standard: number | null;
}

const STOP = Symbol('stop');

export function startSearch(deps: SearchDeps): SearchHandle {
  const engine = new Engine(deps);
  return engine.handle();
}

class Engine {
  private readonly store: RunStore;
  private readonly executor: Executor;
  private readonly config: SearchConfig;
  private readonly mutate: Mutator;
  private readonly prepare: Preparer;
  private readonly now: () => number;
  private readonly seeds: { name: string; source: string }[];
  private readonly nSeeds: number;

  private listeners = new Set<SearchListener>();
  private counters: Counters;
  private pop: Member[] = [];
  private known = new Map<number, Known>();
  private cache = new ProgramCache();
  private bred = new Map<number, Bred>();
  private results = new Map<number, Promise<ChildRecord>>();
  private settled = new Map<number, ChildRecord>();
  private nextBreed: number;
  /** Children that are (or will be) trained: not cache hits, not invalid, in id order. */
  private novelIds: number[] = [];
  private metavalRequested = new Set<number>();
  private metavalRunning = new Set<Promise<void>>();
  private metavalChain: Promise<void> = Promise.resolve();

  private isPaused = false;
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => {};
  private stopping = false;
  private signalStop: (v: typeof STOP) => void = () => {};
  private readonly stopped: Promise<typeof STOP>;
  private readonly sessionStart: number;
  private readonly baseElapsed: number;
  private commitTimes: number[] = [];
  private readonly calibrationSources: { reference: string; twin: string } | null;
  private calib: Calibration = { references: {}, noise: {} };
  /** The suite's noise: 0 until measured (and in runs without calibration). */
  private noise = 0;
  private workerTime: WorkerTime = { ...ZERO_WORKER_TIME };
  private outOfTime = false;
  private finishing = false;
  private deadlineTimer: ReturnType<typeof setTimeout> | null = null;
  /** Resolves once the suite's noise is known (measured alongside the first children). */
  private noiseReady: Promise<void> = Promise.resolve();
  readonly done: Promise<SearchStats>;

  constructor(deps: SearchDeps) {
    this.store = deps.store;
    this.executor = deps.executor;
    this.config = this.store.config();
    this.mutate = deps.mutator ?? makeMutator({ weights: this.config.mutationWeights, maxStatements: this.config.maxStatements });
    this.prepare = deps.prepare ?? defaultPrepare;
    this.now = deps.now ?? (() => Date.now());
    this.seeds = this.store.seeds();
    if (this.seeds.length === 0) throw new Error('the run has no seed programs');
    this.nSeeds = this.seeds.length;
    this.counters = this.store.counters();
    this.nextBreed = this.counters.committed + 1;
    this.sessionStart = this.now();
    this.baseElapsed = this.counters.elapsedMs;
    this.calibrationSources = deps.calibration ?? null;
    this.workerTime = { ...ZERO_WORKER_TIME, ...this.counters.workerTime };
    // Runs stored before held fitnesses: the best's fitness is its held one.
    if (this.counters.bestHeld === undefined || (this.counters.bestHeld === null && this.counters.bestFitness !== null))
      this.counters = { ...this.counters, bestHeld: this.counters.bestFitness };
    this.stopped = new Promise((r) => (this.signalStop = r));
    this.done = new Promise<void>((r) => setImmediate(r)).then(() => this.run());
  }

  handle(): SearchHandle {
    const info = this.store.info();
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      run: info.name,
      dir: info.dir,
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

  private log(level: 'info' | 'warn' | 'error', message: string, persist = true, worker?: number): void {
    if (persist && !this.stopping) {
      try {
        this.store.log(level, worker === undefined ? message : `[worker ${worker}] ${message}`);
      } catch {
        // The store may be closing; the event still goes out.
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
    const c = this.counters;
    const t = this.now();
    const windowMs = 60_000;
    const recent = this.commitTimes.filter((x) => t - x <= windowMs);
    const span = Math.min(windowMs, Math.max(1, t - this.sessionStart));
    return {
      ...statsOf(c, this.config.budget, {
        elapsedMs: this.baseElapsed + (t - this.sessionStart),
        workersBusy: this.executor.busy(),
        workers: this.executor.size,
        rate: (recent.length * 1000) / span,
      }),
      ...(this.config.timeMs !== undefined ? { timeMs: this.config.timeMs } : {}),
      workerTime: this.liveWorkerTime(),
      inProgress: this.executor.inProgress?.() ?? [],
      noise: this.calibrationSources && this.calib.noise[this.config.suite] ? this.noise : null,
      bestHeld: c.bestHeld,
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
        this.store.setStatus('stopped');
        this.store.log('error', (e as Error)?.message ?? String(e));
      } catch {
        // the store itself failed
      }
      this.emit({ type: 'log', level: 'error', message: (e as Error)?.message ?? String(e) });
      throw e;
    }
  }

  private async loop(): Promise<SearchStats> {
    const resumed = this.counters.committed > 0;
    this.load();
    this.emit({ type: 'start', run: this.store.info().name, resumed, budget: this.config.budget, workers: this.executor.size });
    this.store.setStatus('running');
    this.startDeadline();

    try {
      await this.calibrate();
      for (const id of this.store.pendingMetaval()) this.runMetaval(id);
      this.breedReady();

      const budget = this.config.budget;
      while (this.counters.committed < budget && !this.stopping) {
        const next = this.counters.committed + 1;
        const pending = this.results.get(next);
        if (!pending) throw new Error(`internal: child ${next} was never bred`);
        let rec = await Promise.race([pending, this.stopped]);
        if (rec === STOP) break;
        // Past the seeds, the lead depends on the noise: it must be known.
        if (next > this.nSeeds && (await Promise.race([this.noiseReady, this.stopped])) === STOP) break;
        if (this.wouldLead(rec)) {
          const confirmed = await Promise.race([this.reevaluate(rec), this.stopped]);
          if (confirmed === STOP) break;
          rec = confirmed;
        }
        this.commit(rec);
      }
      if (this.stopping) {
        // Keep every finished child that can be committed in order (a would-be best only once
        // re-evaluated); the rest is redone on resume.
        for (let id = this.counters.committed + 1; this.settled.has(id) && id <= budget && !this.wouldLead(this.settled.get(id)!); id++)
          this.commit(this.settled.get(id)!);
      } else {
        this.finishing = true;
        await this.drainMetaval();
      }
    } finally {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    }
    const reason: DoneReason = this.outOfTime ? 'time' : this.counters.committed >= this.config.budget && !this.stopping ? 'budget' : 'stopped';
    this.store.setStatus(reason === 'stopped' ? 'stopped' : 'done');
    this.saveTime();
    const stats = this.stats();
    this.emit({ type: 'done', stats, reason });
    return stats;
  }

  /** Worker time and elapsed time, written at the end of a session. */
  private saveTime(): void {
    try {
      this.store.saveCounters({ ...this.counters, elapsedMs: this.elapsed(), workerTime: this.liveWorkerTime() });
    } catch {
      // the store is closing: the last commit's counters stand
    }
  }

  /** `--time`: at the deadline the run ends as a stop does (finished children committed, the rest redone on resume). */
  private startDeadline(): void {
    const limit = this.config.timeMs;
    if (limit === undefined) return;
    const left = limit - this.elapsed();
    const end = () => {
      if (this.stopping) return;
      this.outOfTime = true;
      this.stopping = true;
      this.signalStop(STOP);
      this.openGate();
    };
    if (left <= 0) end();
    else this.deadlineTimer = setTimeout(end, left);
  }

  // ---- calibration: references once per run, the suite's noise ----------------

  private reevalSeed(i: number): number {
    return this.config.evalSeed + 1 + i;
  }

  /**
   * Reference results for every suite and seed the run evaluates on, and the
   * suite's noise, computed once and stored. The children wait only for the
   * references at the run's own seed; the rest runs alongside the first ones.
   */
  private async calibrate(): Promise<void> {
    const src = this.calibrationSources;
    if (!src) return;
    this.calib = this.store.calibration();
    const suite = this.config.suite;
    const own: SuiteName[] = suite === 'quick' ? ['quick'] : ['quick', suite];
    await Promise.all(own.map((su) => this.ensureReference(su, this.config.evalSeed)));
    this.noiseReady = this.measureNoise().catch((e: unknown) => {
      if (!this.stopping) this.log('error', `noise measurement: ${(e as Error)?.message ?? String(e)}`);
    });
  }

  private async measureNoise(): Promise<void> {
    const src = this.calibrationSources!;
    const suite = this.config.suite;
    const seeds = [this.config.evalSeed, ...Array.from({ length: REEVAL_SEEDS }, (_, i) => this.reevalSeed(i))];
    await Promise.all(seeds.map((seed) => this.ensureReference(suite, seed)));
    if (this.stopping) return;
    const known = this.calib.noise[suite];
    if (known) {
      this.noise = known.noise;
      return;
    }
    const twins = await Promise.all(
      seeds.map(async (seed) => {
        const out = await this.runJob({ ...this.job(0, src.twin, suite, seed) });
        if (out === STOP) return null;
        this.book('reference', out.ok ? out.result.ms : 0);
        return out.ok && isScore(out.result.fitness) ? out.result.fitness : null;
      }),
    );
    if (this.stopping) return;
    const samples = twins.filter((x): x is number => x !== null);
    this.noise = noiseOf(samples);
    this.calib = { ...this.calib, noise: { ...this.calib.noise, [suite]: { noise: this.noise, samples } } };
    this.store.setCalibration(this.calib);
    this.log('info', `${suite} suite noise ${this.noise.toFixed(4)} (AdamW's twin on ${samples.length} evaluation seeds)`);
  }

  /** The reference results of a suite at a seed: stored, or computed now (booked as reference time) and stored. */
  private async ensureReference(suite: SuiteName, seed: number): Promise<void> {
    const src = this.calibrationSources;
    const key = referenceKey(suite, seed);
    if (!src || this.calib.references[key]) return;
    const out = await this.runJob({ ...this.job(0, src.reference, suite, seed), score: false });
    if (out === STOP) return;
    if (!out.ok) {
      this.log('warn', `reference results for the ${suite} suite (seed ${seed}) failed: ${out.reason}; workers will compute them`);
      return;
    }
    this.book('reference', out.result.ms);
    const refs: Record<string, { lr: number | null; loss: number | null; metric: number | null; failure?: string }> = {};
    for (const t of out.result.tasks) refs[t.task] = { lr: t.lr, loss: t.loss, metric: t.metric, ...(t.failure ? { failure: t.failure } : {}) };
    this.calib = { ...this.calib, references: { ...this.calib.references, [key]: refs } };
    this.store.setCalibration(this.calib);
  }

  // ---- the lead: noise-aware, held on a fresh seed ------------------------------

  /** A child that would become the best if it holds up on a fresh seed: it must be re-evaluated first. */
  private wouldLead(rec: ChildRecord): boolean {
    // The seeds start the race: the best of them leads, plainly.
    if (!this.calibrationSources || rec.reeval !== undefined || rec.id <= this.nSeeds) return false;
    const held = this.counters.bestHeld;
    return rec.status === 'ok' && isScore(rec.fitness) && !driftOf(rec) && held !== null && beats(rec.fitness, held, this.noise);
  }

  private async reevaluate(rec: ChildRecord): Promise<ChildRecord> {
    const seed = this.reevalSeed(rec.id % REEVAL_SEEDS);
    const out = await this.runJob(this.job(rec.id, rec.simplified || rec.source, this.config.suite, seed));
    if (out === STOP) return new Promise<ChildRecord>(() => {});
    this.book('reeval', out.ok ? out.result.ms : 0);
    const reeval = out.ok ? out.result : null;
    if (!out.ok) this.log('warn', `re-evaluation of child ${rec.id} failed: ${out.reason}`);
    return { ...rec, reeval };
  }

  /** Rebuilds the in-memory state from the store (empty for a new run). */
  private load(): void {
    for (const c of this.store.iterateChildren()) {
      const src = c.cachedFrom !== null ? this.known.get(c.cachedFrom) : undefined;
      this.known.set(c.id, {
        status: c.status,
        fitness: c.fitness,
        quick: src ? src.quick : (c.quick?.fitness ?? null),
        standard: src ? src.standard : (c.standard?.fitness ?? null),
      });
      if (c.status === 'ok' || c.status === 'pruned' || c.status === 'failed') {
        this.cache.add(c.id, c.hash, c.fingerprint);
        this.novelIds.push(c.id);
      }
    }
    this.pop = this.store.population();
    for (const m of this.store.metavalResults()) this.metavalRequested.add(m.id);
  }

  /** The population after commit n: the live one, or rebuilt from the store's history. */
  private popAt(n: number): Member[] {
    return n === this.counters.committed ? this.pop : this.store.population(n);
  }

  /** Breeds every child whose breeding state is committed, in id order. */
  /**
   * The commit child `id` is bred from: `id - batch`, or earlier when fewer
   * than `ahead` children among those bred since would be trained (the rest
   * being cache hits and invalid children, which cost nothing): so the
   * workers always have `ahead` new programs to train. A function of the
   * children's ids and cache statuses alone, so runs stay deterministic.
   */
  private breedFrom(id: number): number {
    let k = id - this.config.batch;
    const ahead = this.config.ahead;
    if (ahead !== undefined) {
      const n = this.novelIds.length;
      k = Math.min(k, n < ahead ? this.nSeeds : this.novelIds[n - ahead]!);
    }
    return Math.max(k, this.nSeeds);
  }

  private breedReady(): void {
    const c = this.counters.committed;
    while (this.nextBreed <= this.config.budget && !this.stopping) {
      const id = this.nextBreed;
      if (id > this.nSeeds && this.breedFrom(id) > c) break;
      this.nextBreed++;
      const b = id <= this.nSeeds ? this.breedSeed(id) : this.breedChild(id, this.popAt(this.breedFrom(id)));
      if (b.prepared.ok && b.cachedFrom === null) this.novelIds.push(id);
      this.bred.set(id, b);
      const p = this.evaluateChild(b).catch((e: unknown) => this.internalFailure(b, e)).then((rec) => {
        this.settled.set(id, rec);
        return rec;
      });
      this.results.set(id, p);
    }
  }

  private breedSeed(id: number): Bred {
    const seed = this.seeds[id - 1]!;
    const program = withStateSlots(flatten(parse(seed.source, { file: seed.name })), this.config.stateSlots ?? 0);
    const source = print(program);
    return this.finishBreeding({ id, parent: null, mutation: 'seed', detail: `seed ${seed.name}`, source, program, hurdle: null });
  }

  private breedChild(id: number, pop: Member[]): Bred {
    if (pop.length === 0) throw new SearchFault('no program could be trained: every seed failed (see the run log)');
    const seed = this.config.seed;
    const parent = tournament(pop, this.config.tournament, Rng.derive(seed, 'child', id, 'select'));
    const parentSource = this.sourceOf(parent.id);
    const parentProgram = parse(parentSource);
    const m = this.mutate(parentProgram, Rng.derive(seed, 'child', id, 'mutate'));
    const source = print(m.program);
    const hurdle = hurdleFor(
      pop.map((x) => this.known.get(x.id) ?? { quick: null, standard: null }),
      this.config.hurdle,
    );
    return this.finishBreeding({ id, parent: parent.id, mutation: m.kind, detail: m.detail, source, program: m.program, hurdle });
  }

  private finishBreeding(b: Omit<Bred, 'prepared' | 'cachedFrom'> & { program: Program }): Bred {
    const prepared = this.prepare(b.program);
    let cachedFrom: number | null = null;
    if (prepared.ok) {
      const hit = this.cache.lookup(prepared.hash, prepared.fingerprint);
      if (hit !== undefined) cachedFrom = hit;
      else this.cache.add(b.id, prepared.hash, prepared.fingerprint);
    }
    const { program: _program, ...rest } = b;
    return { ...rest, prepared, cachedFrom };
  }

  private sourceOf(id: number): string {
    const b = this.bred.get(id);
    if (b) return b.source;
    const c = this.store.child(id);
    if (!c) throw new Error(`internal: no child ${id}`);
    return c.source;
  }

  // ---- evaluation ------------------------------------------------------------

  private job(childId: number, source: string, suite: SuiteName, seed = this.config.evalSeed): EvalJob {
    const references = this.calib.references[referenceKey(suite, seed)];
    return {
      childId,
      source,
      suite,
      seed,
      lrs: this.config.lrs,
      ...(this.config.steps !== undefined ? { steps: this.config.steps } : {}),
      ...(references ? { references } : {}),
    };
  }

  /** Runs a job, once more if its worker crashed or hung. Never rejects. */
  private async runJob(job: EvalJob): Promise<EvalOutcome | typeof STOP> {
    for (let attempt = 1; ; attempt++) {
      await this.gate;
      if (this.stopping) return STOP;
      let out: EvalOutcome;
      try {
        out = await this.executor.evaluate(job);
      } catch (e) {
        out = { ok: false, reason: `executor fault: ${(e as Error)?.message ?? String(e)}`, crashed: true };
      }
      if (this.stopping) return STOP;
      // A crash is retried once; so is a time-out, except in meta-validation, whose big
      // tasks would only time out again.
      if (out.ok || attempt >= 2) return out;
      const retry = out.crashed === true || (out.timedOut === true && job.suite !== 'metaval');
      if (!retry) return out;
      this.log('warn', `child ${job.childId} (${job.suite}): ${out.reason}; retrying once`);
    }
  }

  private async evaluateChild(b: Bred): Promise<ChildRecord> {
    const rec = (r: Outcome): ChildRecord => childRecord(b, b.cachedFrom, r);
    if (!b.prepared.ok) return rec({ status: 'invalid', fitness: null, quick: null, standard: null, failure: b.prepared.reason, ms: 0 });
    if (b.cachedFrom !== null) {
      const from = await this.scoreOf(b.cachedFrom);
      return rec({ status: 'cached', fitness: from.fitness, quick: null, standard: null, failure: from.fitness === null ? 'cached failure' : null, ms: 0 });
    }
    // Timings: evaluation time as the workers report it, not time spent queued.
    const t0 = this.now();
    const wall = () => this.now() - t0;
    const source = b.prepared.simplified;
    const q = await this.runJob(this.job(b.id, source, 'quick'));
    if (q === STOP) return new Promise<ChildRecord>(() => {}); // abandoned: never committed
    this.book('novel', q.ok ? q.result.ms : wall());
    if (!q.ok) return rec({ status: 'failed', fitness: null, quick: null, standard: null, failure: q.reason, ms: wall() });
    const quick = q.result;
    if (!isScore(quick.fitness))
      return rec({ status: 'failed', fitness: null, quick, standard: null, failure: quick.failure ?? 'no finite fitness', ms: quick.ms });
    if (this.config.suite === 'quick') return rec({ status: 'ok', fitness: quick.fitness, quick, standard: null, failure: null, ms: quick.ms });
    if (b.hurdle !== null && !passes(quick.fitness, b.hurdle))
      return rec({ status: 'pruned', fitness: quick.fitness + b.hurdle.offset, quick, standard: null, failure: null, ms: quick.ms });
    const t1 = this.now();
    const s = await this.runJob(this.job(b.id, source, 'standard'));
    if (s === STOP) return new Promise<ChildRecord>(() => {});
    this.book('novel', s.ok ? s.result.ms : this.now() - t1);
    if (!s.ok) return rec({ status: 'failed', fitness: null, quick, standard: null, failure: s.reason, ms: wall() });
    const standard: SuiteResult = s.result;
    const ms = quick.ms + standard.ms;
    if (!isScore(standard.fitness))
      return rec({ status: 'failed', fitness: null, quick, standard, failure: standard.failure ?? 'no finite fitness', ms });
    return rec({ status: 'ok', fitness: standard.fitness, quick, standard, failure: null, ms });
  }

  /** A bug while judging a child ends that child as `failed`, not the run. */
  private internalFailure(b: Bred, e: unknown): ChildRecord {
    const reason = `internal fault: ${(e as Error)?.message ?? String(e)}`;
    this.log('error', `child ${b.id}: ${reason}`);
    return childRecord(b, null, { status: 'failed', fitness: null, quick: null, standard: null, failure: reason, ms: 0 });
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

  private commit(r: ChildRecord): void {
    const rec: ChildRecord = { ...r, at: new Date().toISOString() };
    const id = rec.id;
    const cfg = this.config;
    const c: Counters = { ...this.counters, committed: id };
    switch (rec.status) {
      case 'ok':
        c.ok++;
        break;
      case 'pruned':
        c.pruned++;
        break;
      case 'cached':
        c.cached++;
        break;
      case 'invalid':
        c.invalid++;
        break;
      case 'failed':
        c.failed++;
        break;
      default: {
        const never: never = rec.status;
        throw new Error(`unknown status ${String(never)}`);
      }
    }

    // Population: every child with a fitness joins; the oldest leaves.
    let pop = this.pop;
    const removed: Member[] = [];
    const added: Member[] = [];
    if (rec.fitness !== null && rec.status !== 'invalid' && rec.status !== 'failed') {
      const m = { id, fitness: rec.fitness, addedAt: id };
      const r2 = addMember(pop, m, cfg.population);
      pop = r2.pop;
      removed.push(...r2.removed);
      added.push(m);
    }
    // The lead changes only for a gain above the noise that holds on a fresh seed (search/selection.ts).
    let improved = false;
    if (rec.fitness !== null && rec.status !== 'cached' && !driftOf(rec)) {
      const seed = id <= this.nSeeds;
      const calibrated = this.calibrationSources !== null && c.bestHeld !== null && !seed;
      const again = rec.reeval && isScore(rec.reeval.fitness) ? rec.reeval.fitness : null;
      const held = heldFitness(rec.fitness, again);
      if ((!calibrated || again !== null) && beats(held, c.bestHeld, seed ? 0 : this.noise)) {
        c.bestFitness = rec.fitness;
        c.bestHeld = held;
        c.bestId = id;
        c.lastImprovement = id;
        improved = true;
      }
    }
    let restartFrom: number | null = null;
    if (cfg.restartAfter > 0 && id > this.nSeeds && c.bestId !== null && id - c.lastImprovement >= cfg.restartAfter) {
      // Restart: the population becomes the best program alone, and grows again from it.
      restartFrom = c.bestId;
      for (const m of pop) if (!added.includes(m)) removed.push(m);
      added.length = 0;
      const m = { id: c.bestId, fitness: c.bestFitness!, addedAt: id };
      pop = [m];
      added.push(m);
      c.lastImprovement = id;
      c.restarts++;
    }

    const known: Known = {
      status: rec.status,
      fitness: rec.fitness,
      quick: rec.quick?.fitness ?? null,
      standard: rec.standard?.fitness ?? null,
    };
    if (rec.status === 'cached' && rec.cachedFrom !== null) {
      const src = this.known.get(rec.cachedFrom);
      if (src) {
        known.quick = src.quick;
        known.standard = src.standard;
      }
    }
    this.known.set(id, known);

    const metaval: number[] = [];
    if (cfg.metavalEvery > 0 && id % cfg.metavalEvery === 0) {
      const top = [...this.known]
        .filter(([, k]) => k.status === 'ok' && k.fitness !== null)
        .sort((a, b) => b[1].fitness! - a[1].fitness! || a[0] - b[0])
        .slice(0, cfg.metavalTop)
        .map(([i]) => i);
      for (const i of top) if (!this.metavalRequested.has(i)) metaval.push(i);
    }

    c.elapsedMs = this.elapsed();
    c.workerTime = this.liveWorkerTime();
    this.store.commit({
      child: rec,
      add: added.map((m) => ({ id: m.id, fitness: m.fitness })),
      remove: removed.map((m) => m.id),
      counters: c,
      metaval,
    });
    this.counters = c;
    this.pop = pop;
    this.settled.delete(id);
    this.results.delete(id);
    this.bred.delete(id);
    const t = this.now();
    this.commitTimes.push(t);
    if (this.commitTimes.length > 1000) this.commitTimes.splice(0, this.commitTimes.length - 1000);

    this.emit({ type: 'child', child: rec, stats: this.stats() });
    if (improved) this.emit({ type: 'best', child: rec });
    if (restartFrom !== null) this.log('info', `restart from child ${restartFrom} after ${cfg.restartAfter} children without improvement`);
    for (const i of metaval) {
      this.metavalRequested.add(i);
      this.runMetaval(i);
    }
    this.breedReady();
  }

  // ---- meta-validation -------------------------------------------------------

  /**
   * Meta-validations run one at a time, behind each other, so that with two
   * or more workers the search keeps evaluating children meanwhile.
   */
  private runMetaval(id: number): void {
    const previous = this.metavalChain;
    const task = (async () => {
      await previous;
      try {
        const c = this.store.child(id);
        if (!c) return;
        await this.metavalTurn();
        if (this.stopping) return;
        await this.ensureReference('metaval', this.config.evalSeed);
        const out = await this.runJob(this.job(id, c.simplified || c.source, 'metaval'));
        if (out === STOP) return;
        this.book('metaval', out.ok ? out.result.ms : 0);
        if (out.ok) {
          this.store.setMetaval(id, out.result);
          this.emit({ type: 'metaval', id, fitness: isScore(out.result.fitness) ? out.result.fitness : null });
        } else {
          this.store.setMetaval(id, null, out.reason);
          this.emit({ type: 'metaval', id, fitness: null });
          this.log('warn', `meta-validation of child ${id} failed: ${out.reason}`);
        }
      } catch (e) {
        if (!this.stopping) this.log('error', `meta-validation of child ${id}: ${(e as Error)?.message ?? String(e)}`, false);
      }
    })();
    this.metavalChain = task;
    this.metavalRunning.add(task);
    void task.finally(() => this.metavalRunning.delete(task));
  }

  /**
   * Waits while meta-validation has had more than its share of the workers'
   * time (`metavalShare`, default 0.2); at the end of a run's budget the share
   * no longer binds (nothing else wants the workers).
   */
  private async metavalTurn(): Promise<void> {
    const share = this.config.metavalShare ?? 0.2;
    for (;;) {
      if (this.stopping || this.finishing) return;
      const t = this.liveWorkerTime();
      if (t.capacity <= 0 || t.metaval <= share * t.capacity) return;
      await Promise.race([new Promise((r) => setTimeout(r, 250)), this.stopped]);
    }
  }

  private async drainMetaval(): Promise<void> {
    while (this.metavalRunning.size > 0 && !this.stopping) {
      await Promise.race([Promise.all([...this.metavalRunning]), this.stopped]);
    }
  }
}

/** A fault that ends the run with a one-line message (no seed could be trained, ...). */
export class SearchFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchFault';
  }
}

/**
 * The program with at least `n` state slots: missing ones are added after the
 * others as `s1`, `s2`, ... (zero-initialised, returned unchanged), so that a
 * memoryless seed such as SGD can evolve momentum. Unused, they are dead code:
 * the simplifier drops them and the hashes ignore them.
 */
export function withStateSlots(p: Program, n: number): Program {
  const have = stateSlots(p).length;
  if (have >= n) return p;
  const used = new Set<string>([...p.hparams.map((h) => h.name), ...p.params.map((q) => q.name), ...p.body.map((s) => s.target)]);
  const extra: string[] = [];
  for (let i = 1; extra.length < n - have; i++) if (!used.has(`s${i}`)) extra.push(`s${i}`);
  return {
    ...p,
    params: [...p.params, ...extra.map((name) => ({ name }))],
    returns: [...p.returns, ...extra.map((name) => ({ type: 'name' as const, name }))],
  };
}

/** The evaluator's constant-drift flag on a child's results, if any. */
function driftOf(rec: ChildRecord): string | undefined {
  return rec.standard?.drift ?? rec.quick?.drift;
}

function isScore(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

type Outcome = Pick<ChildRecord, 'status' | 'fitness' | 'quick' | 'standard' | 'failure' | 'ms'>;

/** A child's record: what breeding and preparation made, plus how it was judged. */
function childRecord(b: Bred, cachedFrom: number | null, r: Outcome): ChildRecord {
  return {
    id: b.id,
    parent: b.parent,
    mutation: b.mutation,
    mutationDetail: b.detail,
    source: b.source,
    simplified: b.prepared.ok ? b.prepared.simplified : '',
    hash: b.prepared.ok ? b.prepared.hash : '',
    ...(b.prepared.ok && b.prepared.family ? { family: b.prepared.family } : {}),
    fingerprint: b.prepared.ok ? b.prepared.fingerprint : '',
    size: b.prepared.ok ? b.prepared.size : 0,
    metaval: null,
    cachedFrom,
    ...r,
    at: '',
  };
}
