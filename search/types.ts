import type { WorkerTime } from './worker-time.js';

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

export type MutationKind = 'insert' | 'delete' | 'modify' | 'seed' | 'restart';

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
  /** The reference optimizer's results per task, computed once per run: the worker scores against them and never recomputes. */
  references?: Record<string, ReferenceResult>;
  /** False: train only, scores null (how the run computes its reference results). */
  score?: boolean;
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
  | { ok: false; reason: string; crashed?: boolean; timedOut?: boolean };

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
  close(): Promise<void>;
}

/** Everything recorded about a judged child. */
export interface ChildRecord {
  id: number;
  parent: number | null;
  mutation: MutationKind;
  /** A short description of the mutation (e.g. `modify s3: sqrt -> cbrt`). */
  mutationDetail: string;
  source: string;
  simplified: string;
  hash: string;
  fingerprint: string;
  status: ChildStatus;
  /** The fitness that selection uses: standard-suite fitness if run, else quick. */
  fitness: number | null;
  quick: SuiteResult | null;
  standard: SuiteResult | null;
  /** Meta-validation fitness, once the child has been meta-validated. */
  metaval: number | null;
  /** Statements in the simplified program. */
  size: number;
  /** For cached children: the child whose score was reused. */
  cachedFrom: number | null;
  failure: string | null;
  /** Milliseconds of evaluation (0 for cached and invalid). */
  ms: number;
  /** Family hash: programs that differ only in constants share it (absent in runs stored before families). */
  family?: string;
  /** Its re-evaluation on a fresh evaluation seed, when it beat the best by more than the noise (search/selection.ts). */
  reeval?: SuiteResult | null;
  /** ISO time the child was committed. */
  at: string;
}

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
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; worker?: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'done'; stats: SearchStats; reason: DoneReason };

export type SearchListener = (e: SearchEvent) => void;

/** Why a run ended: its children's budget, its time budget (`--time`), or a stop (resumable). */
export type DoneReason = 'budget' | 'time' | 'stopped';
