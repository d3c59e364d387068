/**
 * Newton's method, as the seed notes write it: dW = -eps H^-1 dL/dW, with
 * the exact Hessian (built column by column from Hessian-vector products by
 * double backpropagation) and damping: (H + lambda I) d = g, solved in
 * float64 by Cholesky. Exact on a quadratic: one step with learningRate 1
 * and damping 0 lands on the minimum.
 *
 * The Hessian costs n Hessian-vector products (2n gradient evaluations) and
 * n^2 floats, and the solve n^3/3 flops, so this is for models up to
 * `maxParameters` (2,000 by default); beyond that it refuses and points to
 * hessianFree, which needs only products.
 */
import * as tf from '@tensorflow/tfjs';
import { ClosureOptimizer, backtrack } from './closure-optimizer.js';
import { hessianVector, lossAndGradient, lossOnly } from './curvature.js';
import { solveDamped } from './dense-solve.js';
import type { HparamRule } from './hparams.js';
import { type TensorList, disposeList, sizeOf } from './tensor-space.js';

export interface NewtonHparams {
  /** Scale of the Newton step (1: the full step). */
  learningRate: number;
  /** lambda in (H + lambda I) d = g. */
  damping: number;
  /** The most parameters it accepts. */
  maxParameters: number;
  /** Backtrack along the Newton direction until the loss decreases enough (Armijo). */
  lineSearch: boolean;
}

export const NEWTON_DEFAULTS: Readonly<NewtonHparams> = Object.freeze({ learningRate: 1, damping: 0, maxParameters: 2000, lineSearch: false });

const RULES: { readonly [K in keyof NewtonHparams]: HparamRule } = {
  learningRate: { kind: 'number', positive: true },
  damping: { kind: 'number', min: 0 },
  maxParameters: { kind: 'number', integer: true, min: 1 },
  lineSearch: { kind: 'boolean' },
};

export interface NewtonStep {
  loss: number;
  /** Shift added to make H + lambda I positive definite (0 when it was). */
  shift: number;
  alpha: number;
}

export class NewtonOptimizer extends ClosureOptimizer<NewtonHparams> {
  static get className(): string {
    return 'OptevoNewton';
  }

  /** What the last step did. */
  lastStep: NewtonStep | undefined;

  constructor(hparams?: Partial<NewtonHparams>) {
    super('newton', hparams, NEWTON_DEFAULTS, RULES);
  }

  protected step(f: () => tf.Scalar, vars: tf.Variable[]): number {
    const n = sizeOf(vars);
    if (n > this.hparams.maxParameters)
      throw new Error(
        `newton: the model has ${n} parameters, more than maxParameters (${this.hparams.maxParameters}): the exact Hessian needs ${n} Hessian-vector products and ${n}^2 floats per step. ` +
          'Use optimizers.hessianFree, which needs only Hessian- or Gauss-Newton-vector products (or raise maxParameters)',
      );
    const { loss, grads } = lossAndGradient(f, vars);
    this.cost.add('gradient');
    const g = flatten(grads);
    const h = new Float64Array(n * n);
    let col = 0;
    vars.forEach((v, vi) => {
      for (let j = 0; j < v.size; j++, col++) {
        // A unit vector from a typed array: tf.oneHot with a float32 dtype gives wrong values on wasm (4.22).
        const e = vars.map((u, k) => {
          const a = new Float32Array(u.size);
          if (k === vi) a[j] = 1;
          return tf.tensor(a, u.shape, 'float32');
        });
        const hv = hessianVector(f, vars, e, 'newton');
        h.set(flatten(hv), col * n);
        disposeList(e);
        disposeList(hv);
      }
    });
    this.cost.add('hessianVector', n);
    const { d, shift } = solveDamped(h, n, g, this.hparams.damping);
    // The step is -d; its slope along the gradient is -g.d.
    const dir = unflatten(d, vars, -1);
    const w0 = vars.map((v) => tf.clone(v));
    let alpha = 1;
    if (this.hparams.lineSearch) {
      const slope = -g.reduce((s, gi, i) => s + gi * d[i]!, 0);
      const ls = backtrack(
        (a) => {
          ClosureOptimizer.moveTo(vars, w0, a, dir);
          return lossOnly(f);
        },
        loss,
        slope,
        undefined,
      );
      this.cost.add('loss', ls.evaluations);
      alpha = ls.alpha;
    }
    ClosureOptimizer.moveTo(vars, w0, alpha * this.hparams.learningRate, dir);
    disposeList(dir);
    disposeList(w0);
    disposeList(grads);
    this.lastStep = { loss, shift, alpha };
    return loss;
  }

  override async getWeights(): Promise<{ name: string; tensor: tf.Tensor }[]> {
    return [await this.saveIterations()];
  }

  override async setWeights(weightValues: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    if (rest.length > 0) throw new Error(`newton: setWeights: '${rest[0]!.name}' is not a state of this optimizer (newton keeps only the step count)`);
  }

}

/** The tensors of a list, one after another, in float64. */
export function flatten(list: TensorList): Float64Array {
  const n = list.reduce((s, t) => s + t.size, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const t of list) {
    out.set(t.dataSync(), o);
    o += t.size;
  }
  return out;
}

/** scale x, cut into tensors shaped like vars. */
export function unflatten(x: Float64Array, vars: readonly tf.Tensor[], scale = 1): TensorList {
  let o = 0;
  return vars.map((v) => {
    const part = Float32Array.from(x.subarray(o, o + v.size), (a) => a * scale);
    o += v.size;
    return tf.tensor(part, v.shape, 'float32');
  });
}

tf.serialization.registerClass(NewtonOptimizer);
