import { ZERO_WORKER_TIME, type WorkerTime } from './worker-time.js';

/**
 * The vocabulary shared by the search, its executor, its store and whoever
 * watches it (dashboard, plain reporter). `search/` defines these; `src/`
 * implements the evaluation behind `Executor`.
 */

/** Suites of proxy tasks: `quick` is the hurdle, `standard` the full run, `metaval` held out. */
export type SuiteName = 'quick' | 'standard' | 'metaval';

/** What became of a child. */
export type ChildStatus =
  | 'ok' // trained on the quick suite and, above the hurdle, the standard suite
  | 'pruned' // trained on the quick suite only: below the hurdle
  | 'cached' // equivalent to an earlier child: its score is reused, nothing trained
  | 'invalid' // failed the checker: never trained
  | 'failed'; // NaN, infinity, divergence, exception, time-out or worker crash

/** What a mutation does to a program. */
export const MUTATION_OPS = ['insert', 'delete', 'modify'] as const;
export type MutationOp = (typeof MUTATION_OPS)[number];

/** How a child came to be: a mutation, or a seed program as it is. */
export const MUTATION_KINDS = [...MUTATION_OPS, 'seed'] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

/** One task's result for one program. */
export interface TaskResult {
  task: string;
  /** The learning rate (multiplier of the program's `lr`) with the lowest validation loss. */
  lr: number | null;
  /** Validation loss at that rate; null when every rate failed. */
  loss: number | null;
  /** Task metric at that rate (accuracy for classifiers, else the loss). */
  metric: number | null;
  /** Normalised score against the reference optimizer: higher is better, 0 is as good as it. */
  score: number | null;
  /** Training loss, sampled, at the best rate. */
  curve: number[];
  /** Why this task failed at every rate (NaN, divergence, ...). */
  failure?: string;
  /** Wall-clock milliseconds spent on the task. */
  ms: number;
  /** Plateau detected during training at the best rate (step index), if any. */
  plateauAt?: number;
  /** True when the learning-rate sweep ran as stacked replicas. */
  batched?: boolean;
}

/** A program's result on a suite. */
export interface SuiteResult {
  suite: SuiteName;
  /** Mean of task scores; null when the program failed. */
  fitness: number | null;
  tasks: TaskResult[];
  ms: number;
  failure?: string;
  /** The evaluator's constant-drift flag: such a program never leads the run. */
  drift?: string;
}

/** One evaluation handed to an executor. */
export interface EvalJob {
  childId: number;
  /** Program text (canonical print). Workers parse it; nothing in it is executed as JavaScript. */
  source: string;
  suite: SuiteName;
  /** Seed of the task data and model initialisation. */
  seed: number;
  /** Learning-rate multipliers to sweep (empty: the evaluator's default sweep). */
  lrs: number[];
  /** Override of each task's default step count (tests use it). */
  steps?: number;
  /** How the rates are swept: every rate to the end, or the rates clearly behind stopped early (src/train/halving.ts; absent: 'full'). */
  sweep?: 'full' | 'halving';
  /** The reference optimizer's results per task, computed once per run: the worker scores against them and never recomputes. */
  references?: Record<string, ReferenceResult>;
  /** False: train only, scores null (how the run computes its reference results). */
  score?: boolean;
  /**
   * Milliseconds this job may run, when less than the executor's own limit:
   * a meta-validation may take at most what is left of its share of the run.
   */
  limitMs?: number;
  /**
   * Runs before the jobs waiting for a worker: the run waits on it (the
   * references every child is scored against; a would-be best's
   * re-evaluation, on which the commits wait), so queued behind the others it
   * would stall the breeding that feeds the workers.
   */
  urgent?: boolean;
  /** Only these tasks of the suite (absent: all): heavy suites run as one job per task, merged by the search. */
  tasks?: string[];
}

/** The reference optimizer's best run on one task (at the run's rates and steps, one evaluation seed). */
export interface ReferenceResult {
  lr: number | null;
  loss: number | null;
  metric: number | null;
  failure?: string;
}

/** An evaluation under way, as its worker last reported it. */
export interface EvalProgress {
  childId: number;
  suite: SuiteName;
  /** The task being trained, once the worker has begun one. */
  task: string | null;
  /** The rates trained together right now (the grid, or the refinement pass). */
  lrs: number[];
  step: number;
  steps: number;
  /** Milliseconds since the job began. */
  ms: number;
}

export type EvalOutcome =
  | { ok: true; result: SuiteResult }
  | { ok: false; reason: string; crashed?: boolean; timedOut?: boolean; cancelled?: boolean; /** Milliseconds it ran on a worker, where the executor knows. */ ms?: number };

/**
 * Runs evaluations. The local implementation is a piscina pool; a
 * multi-machine executor can replace it without touching the evolution loop.
 */
export interface Executor {
  readonly size: number;
  /** Evaluations running right now. */
  busy(): number;
  /** What each running evaluation is doing (executors that can tell). */
  inProgress?(): EvalProgress[];
  evaluate(job: EvalJob): Promise<EvalOutcome>;
  /**
   * Cancels every job still waiting for a worker: each resolves at once as
   * `{ ok: false, cancelled: true }`; jobs a worker has begun run to their end.
   * Executors that have it let a run with `--time` end gracefully: what is
   * running at the deadline finishes and counts, nothing new starts.
   */
  cancelQueued?(): void;
  close(): Promise<void>;
}

/** Fields every child has, whatever became of it. */
interface ChildBase {
  id: number;
  parent: number | null;
  mutation: MutationKind;
  /** A short description of the mutation (e.g. `modify s3: sqrt -> cbrt`). */
  mutationDetail: string;
  source: string;
  /** Meta-validation fitness, once the child has been meta-validated. */
  metaval: number | null;
  /** Milliseconds of evaluation (0 for cached and invalid). */
  ms: number;
  /** Family hash: programs that differ only in constants share it (absent in runs stored before families). */
  family?: string;
  /** Its re-evaluation on a fresh evaluation seed, when it beat the best by more than the noise (search/selection.ts). */
  reeval?: SuiteResult | null;
  /** ISO time the child was committed. */
  at: string;
}

/** What the checker and simplifier made of a valid program. */
export interface Analysis {
  simplified: string;
  hash: string;
  fingerprint: string;
  /** Statements in the simplified program. */
  size: number;
}

/**
 * Everything recorded about a judged child, by what became of it. `fitness`
 * is what selection uses: the standard-suite fitness if that ran, else the
 * quick one (shifted by the hurdle's offset for a pruned child).
 */
export type ChildRecord =
  | (ChildBase & {
      status: 'invalid';
      fitness: null;
      quick: null;
      standard: null;
      cachedFrom: null;
      /** The checker's message. */
      failure: string;
    })
  | (ChildBase &
      Analysis & {
        status: 'cached';
        /** The earlier child's fitness (null when that child failed). */
        fitness: number | null;
        quick: null;
        standard: null;
        /** The child whose score was reused. */
        cachedFrom: number;
        failure: string | null;
      })
  | (ChildBase &
      Analysis & {
        status: 'ok';
        fitness: number;
        quick: SuiteResult;
        /** Null when the run judges on the quick suite alone. */
        standard: SuiteResult | null;
        cachedFrom: null;
        failure: null;
      })
  | (ChildBase &
      Analysis & {
        status: 'pruned';
        fitness: number;
        quick: SuiteResult;
        standard: null;
        cachedFrom: null;
        failure: null;
      })
  | (ChildBase &
      Analysis & {
        status: 'failed';
        fitness: null;
        quick: SuiteResult | null;
        standard: SuiteResult | null;
        cachedFrom: null;
        failure: string;
      });

/** The program text that was (or would have been) trained: the simplified form, or the source of an invalid child. */
export function trainedText(c: ChildRecord): string {
  return c.status === 'invalid' ? c.source : c.simplified;
}

/** The tasks a child is ranked by: the standard suite's if it ran, else the quick suite's. */
export function rankedTasks(c: ChildRecord): TaskResult[] {
  return (c.standard ?? c.quick)?.tasks ?? [];
}

/** Statements in the trained program (0 for an invalid child, which has none). */
export function sizeOf(c: ChildRecord): number {
  return c.status === 'invalid' ? 0 : c.size;
}

/** The run's counters after the last commit. */
export interface Counters {
  /** Id of the last committed child (children 1..committed are stored). */
  committed: number;
  ok: number;
  pruned: number;
  cached: number;
  invalid: number;
  failed: number;
  bestId: number | null;
  bestFitness: number | null;
  /** Id of the child that last improved the best fitness (0 before any). */
  lastImprovement: number;
  restarts: number;
  /** Evaluation wall time summed over resumed sessions. */
  elapsedMs: number;
  /** The best's held fitness: the lower of its fitness and its re-evaluation on a fresh seed (search/selection.ts). */
  bestHeld: number | null;
  /** Where the workers' time went (search/worker-time.ts), summed over sessions. */
  workerTime: WorkerTime;
}

export const ZERO_COUNTERS: Counters = {
  committed: 0,
  ok: 0,
  pruned: 0,
  cached: 0,
  invalid: 0,
  failed: 0,
  bestId: null,
  bestFitness: null,
  lastImprovement: 0,
  restarts: 0,
  elapsedMs: 0,
  bestHeld: null,
  workerTime: ZERO_WORKER_TIME,
};

/** What a run measures once and keeps: reference results per suite and evaluation seed, and each suite's noise. */
export interface Calibration {
  /** `suite@seed` -> task -> the reference optimizer's result. */
  references: Record<string, Record<string, ReferenceResult>>;
  /** Suite -> its noise level (search/selection.ts) and the twin's fitnesses it came from. */
  noise: Partial<Record<SuiteName, { noise: number; samples: number[] }>>;
  /**
   * `suite@seed` -> milliseconds the reference's evaluation took (on the
   * meta-validation suite: at least what its part that was cut off at the
   * share had run): what later sessions expect a meta-validation to take
   * (absent in older runs).
   */
  ms?: Record<string, number>;
}

export function referenceKey(suite: SuiteName, seed: number): string {
  return `${suite}@${seed}`;
}

/** A stay in the population. */
export interface Member {
  id: number;
  fitness: number;
  /** Commit (child id) that added this stay. */
  addedAt: number;
}

/** How much a log line matters. */
export type LogLevel = 'info' | 'warn' | 'error';

export interface SearchStats {
  judged: number;
  budget: number;
  cached: number;
  invalid: number;
  pruned: number;
  failed: number;
  trained: number;
  bestId: number | null;
  bestFitness: number | null;
  elapsedMs: number;
  workersBusy: number;
  workers: number;
  /** Children judged per second over the recent window. */
  rate: number;
  /** The wall-clock budget (`--time`) in milliseconds, if any. */
  timeMs?: number;
  /** Where the workers' time went, summed over sessions (search/worker-time.ts). */
  workerTime?: WorkerTime;
  /** Evaluations under way (executors that can tell). */
  inProgress?: EvalProgress[];
  /** The suite's measured noise level; null before it is measured (or in runs without calibration). */
  noise?: number | null;
  /** The best's held fitness (the lower of its fitness and its re-evaluation). */
  bestHeld?: number | null;
}

/** What the search tells its subscribers (dashboard, plain reporter, tests). */
export type SearchEvent =
  | { type: 'start'; run: string; resumed: boolean; budget: number; workers: number }
  | { type: 'child'; child: ChildRecord; stats: SearchStats }
  | { type: 'best'; child: ChildRecord }
  | { type: 'metaval'; id: number; fitness: number | null }
  | { type: 'log'; level: LogLevel; message: string; worker?: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'done'; stats: SearchStats; reason: DoneReason };

export type SearchListener = (e: SearchEvent) => void;

/** Why a run ended: its children's budget, its time budget (`--time`), or a stop (resumable). */
export type DoneReason = 'budget' | 'time' | 'stopped';
