/**
 * What the second-order optimizers share as `tf.Optimizer`s: they need the
 * loss itself, not one gradient, so `minimize(f, returnCost, varList)` is
 * their entry point and `applyGradients` says so; their checked
 * hyperparameters (which are also their serialised config), the variables
 * they train, the evaluation count, and the moves of the weights during a
 * step (trial points for a line search) are here.
 */
import * as tf from '@tensorflow/tfjs';
import { CostCounter } from './curvature.js';
import { checkHparams, type HparamRule } from './hparams.js';
import { type TensorList, axpyLists } from './tensor-space.js';

/** tfjs does not export its `NamedTensor`. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export abstract class ClosureOptimizer<H extends { learningRate: number } = { learningRate: number }> extends tf.Optimizer {
  /** The optimizer's name in messages: 'newton' or 'hessianFree'. */
  protected readonly label: string;
  readonly hparams: Readonly<H>;
  /** Evaluations spent since construction (losses, gradients, curvature products). */
  readonly cost = new CostCounter();

  /** Checks the given hyperparameters against the rules; absent ones take the defaults. */
  protected constructor(label: string, given: Partial<H> | undefined, defaults: Readonly<H>, rules: { readonly [K in keyof H]: HparamRule }) {
    super();
    this.label = label;
    this.hparams = Object.freeze(checkHparams(label, given, { ...defaults } as H, rules));
  }

  get learningRate(): number {
    return this.hparams.learningRate;
  }

  /** The hyperparameters are the whole config: `fromConfig` rebuilds the optimizer from them. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.hparams } as tf.serialization.ConfigDict;
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Evaluations spent, in gradient-evaluation equivalents (see COST). */
  get gradientEquivalents(): number {
    return this.cost.gradientEquivalents;
  }

  override applyGradients(_variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    throw new Error(
      `${this.label}: applyGradients cannot supply curvature: it gets one gradient, and ${this.label} needs the loss itself to build curvature products and to try steps. ` +
        `Train with a custom loop that calls optimizer.minimize(() => loss(), false, variables) each step (see the README, "Second-order methods")`,
    );
  }

  /** One step on the loss f; returns the loss before the step when returnCost is true. */
  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    if (typeof f !== 'function') throw new Error(`${this.label}: minimize needs the loss as a function () => scalar`);
    let vars = (varList ?? Object.values(tf.engine().registeredVariables)).filter((v) => v.trainable);
    if (vars.length === 0) throw new Error(`${this.label}: no trainable variables to minimize over`);
    if (varList === undefined) {
      // Every trainable variable in the engine, narrowed to those the loss uses (else they would
      // count towards newton's size and give it zero rows). That costs a gradient: pass varList to save it.
      const { value, grads } = tf.variableGrads(f, vars);
      value.dispose();
      vars = vars.filter((v) => grads[v.name] != null);
      for (const g of Object.values(grads)) g?.dispose();
      this.cost.add('gradient');
    }
    const loss = this.step(f, vars);
    this.incrementIterations();
    return returnCost ? tf.scalar(loss) : null;
  }

  /** One step: moves the variables, returns the loss at the start. */
  protected abstract step(f: () => tf.Scalar, vars: tf.Variable[]): number;

  /** Sets the variables to w0 + a d. */
  protected static moveTo(vars: tf.Variable[], w0: TensorList, a: number, d: TensorList): void {
    const next = axpyLists(a, d, w0);
    vars.forEach((v, i) => v.assign(next[i]!));
    next.forEach((t) => t.dispose());
  }
}

export interface LineSearchResult {
  /** The step length taken (0: no decrease found). */
  alpha: number;
  /** The loss there. */
  loss: number;
  /** Losses evaluated. */
  evaluations: number;
}

/**
 * Backtracking (Armijo) line search along d from w0 with loss f0 and
 * directional derivative slope = g.d < 0: alpha from 1, times `shrink` until
 * f(w0 + alpha d) <= f0 + c alpha slope, at most `tries` times (Martens and
 * Sutskever 2012: c = 0.01, shrink 0.8). `known` is f(w0 + d) if already
 * computed. Leaves the variables wherever the last trial put them.
 */
export function backtrack(
  lossAt: (alpha: number) => number,
  f0: number,
  slope: number,
  known: number | undefined,
  o: { c?: number; shrink?: number; tries?: number } = {},
): LineSearchResult {
  const c = o.c ?? 0.01;
  const shrink = o.shrink ?? 0.8;
  const tries = o.tries ?? 60;
  let alpha = 1;
  let evaluations = 0;
  for (let t = 0; t < tries; t++) {
    let f: number;
    if (t === 0 && known !== undefined) f = known;
    else {
      f = lossAt(alpha);
      evaluations++;
    }
    if (Number.isFinite(f) && f <= f0 + c * alpha * Math.min(slope, 0)) return { alpha, loss: f, evaluations };
    alpha *= shrink;
  }
  return { alpha: 0, loss: f0, evaluations };
}
