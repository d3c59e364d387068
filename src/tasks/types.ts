/**
 * What a proxy task is. Two kinds:
 *  - `array` tasks have closed-form gradients over plain float64 arrays
 *    (quadratic, Rosenbrock, sparse logistic regression); the language's
 *    float64 reference interpreter trains them with no tfjs at all.
 *  - `tf` tasks are models written as pure functions of a parameter list
 *    with tfjs ops, so that the replicas of a learning-rate sweep stack on a
 *    leading axis.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import type { InitRule } from '../train/init.js';
import type { Schedule } from '../train/schedule.js';

/**
 * The suites a task belongs to: `quick` (the hurdle), `standard` (the full
 * run), `metaval` (held out). Tasks own these names; the search asks for a
 * suite by the same names in its evaluation interface (search/types.ts), and
 * src/evaluate.ts, which implements that interface, checks the two are equal.
 */
export type SuiteName = 'quick' | 'standard' | 'metaval';

export type Tfjs = typeof TF;
export type Tensor = TF.Tensor;

/** How training examples are drawn: the whole training set, mini-batches, or one example per step. */
export type Batching = 'full' | 'mini' | 'online';

export interface TaskBase {
  readonly name: string;
  readonly suite: SuiteName;
  readonly description: string;
  /** Where the data comes from (for `optevo tasks`). */
  readonly source: string;
  readonly steps: number;
  readonly batchSize: number;
  readonly batching: Batching;
  readonly schedule: Schedule;
  /** What `metric` measures: 'accuracy' (higher is better) or 'loss'. */
  readonly metricName: string;
  /** Losses below this are treated as equal when scores are normalised (a task's noise floor). */
  readonly lossFloor: number;
  /** Divergence threshold: a loss above this many times its start (and above it by 1) fails the run. */
  readonly divergence: number;
  /** True for tasks from `defineTask` or a tasks module. */
  readonly custom?: boolean;
}

/** A set-up array task: everything it needs for one seed. */
export interface ArrayProblem {
  /** Fresh initial weights (the same every call). */
  init(): Float64Array[];
  /** Training examples (for mini-batches), or null when the objective has no examples. */
  readonly nTrain: number | null;
  /** Loss at ws on the given examples (all when null), gradients written into gs. */
  lossGrad(ws: Float64Array[], batch: Int32Array | null, gs: Float64Array[]): number;
  /** Validation loss and metric at ws. */
  validate(ws: Float64Array[]): { loss: number; metric: number };
  /**
   * The full-batch training loss in tfjs ops, for optimizers that
   * differentiate it twice (newton, hessianFree); absent where a task has none.
   */
  tfLoss?(tf: Tfjs, ws: Tensor[]): TF.Scalar;
}

export interface ArrayTask extends TaskBase {
  readonly kind: 'array';
  readonly paramCount: number;
  setup(seed: number): ArrayProblem;
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitRule;
}

/**
 * A model as pure functions of its parameters. With `replicas` K (a number),
 * every parameter has a leading axis K and the output has one too ([K, B, ...]);
 * the input x ([B, ...]) is shared. With `replicas` null, parameters are as
 * declared and the output is [B, ...].
 */
export interface Model {
  readonly params: readonly ParamSpec[];
  forward(tf: Tfjs, params: Tensor[], x: Tensor, replicas: number | null): Tensor;
  /** False when `forward` cannot take stacked replicas: the sweep then runs each rate separately. */
  readonly batchable: boolean;
}

/** Per-example loss of predictions [(K,) B, ...] against targets [B, ...]: gives [(K,) B]. */
export type LossFn = (tf: Tfjs, pred: Tensor, y: Tensor) => Tensor;
/** A metric on one replica's predictions over the validation set, row-major [n, ...out]. */
export type MetricFn = (pred: Float32Array, y: Float32Array | Int32Array, n: number) => number;

export interface TfTask extends TaskBase {
  readonly kind: 'tf';
  /** The dataset for a seed (deterministic). */
  data(seed: number): Dataset;
  /**
   * Names everything `data` depends on but the seed (generator, sizes,
   * options): set, it lets the dataset (and its whitening) be cached on disk
   * across processes (src/data/setup-cache.ts). Leave it unset when unsure.
   */
  readonly dataKey?: string;
  readonly model: Model;
  readonly loss: 'cross-entropy' | 'mse' | LossFn;
  readonly metric: 'accuracy' | 'loss' | MetricFn;
  /** Decorrelate inputs by PCA whitening (fitted on the training split). */
  readonly whiten: boolean;
  /** Set where stacking replicas was measured slower than separate runs on the CPU backends: the sweep runs separately there, with this reason (a GPU always stacks). */
  readonly preferSeparate?: string;
  /** Why whitening cannot apply (token ids, images whose layout the model reads), when it cannot. */
  readonly noWhitening?: string;
}

export type Task = ArrayTask | TfTask;

export function paramCount(t: Task): number {
  return t.kind === 'array' ? t.paramCount : t.model.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}
