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
  /** How the rates are swept: every rate to the end, or successive halving (absent: 'full'). */
  sweep?: 'full' | 'halving';
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
  evaluate(job: EvalJob): Promise<EvalOutcome>;
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
};

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
  | { type: 'done'; stats: SearchStats; reason: 'budget' | 'stopped' };

export type SearchListener = (e: SearchEvent) => void;
