/**
 * The products the second-order optimizers are built from, all exact (no
 * finite differences), all by reverse-mode differentiation in tfjs:
 *
 *  - the gradient: one forward and one backward pass;
 *  - a Hessian-vector product H v = d/dw (g(w) . v) (Pearlmutter 1994), by
 *    differentiating the gradient computation again;
 *  - a Gauss-Newton-vector product G v = J' H_L J v for f = L(z(w)). J v
 *    is the gradient in u of (J' u) . v, which is linear in u, so
 *    differentiating the vector-Jacobian product at u = 0 gives it exactly
 *    (the "double-backward trick", as tfjs has no forward mode); then H_L
 *    in closed form (or by double backpropagation for a custom loss), then
 *    one more vector-Jacobian product.
 *
 * Second derivatives run inside `withExactSecondDerivatives` (see
 * exact-gradients.ts for the tfjs 4.22 defect it works around).
 *
 * Cost is counted in gradient-evaluation equivalents (one forward plus one
 * backward pass = 1), by COST below.
 */
import * as tf from '@tensorflow/tfjs';
import { withExactSecondDerivatives } from './exact-gradients.js';
import type { SplitLoss } from './split-loss.js';
import type { TensorList } from './tensor-space.js';

/**
 * Nominal costs in gradient evaluations, rounded up from what
 * `npm run bench -- second-order` measured on its autoencoder (wasm, two
 * runs): a loss 0.16-0.26, a Gauss-Newton-vector product 2.5-2.8, a
 * Hessian-vector product 3.4-3.8 (Pearlmutter's bound is about 2; the
 * exact-gradient kernels recompute activations in the second backward pass).
 */
export const COST = {
  /** A forward pass alone. */
  loss: 1 / 3,
  gradient: 1,
  /** Forward, backward, and a backward pass through both. */
  hessianVector: 4,
  /** J v (forward, backward, backward again) and J' s (forward, backward). */
  gaussNewtonVector: 3,
} as const;

export type CostKind = keyof typeof COST;

/** What an optimizer has spent, by kind of evaluation. */
export class CostCounter {
  readonly counts: Record<CostKind, number> = { loss: 0, gradient: 0, hessianVector: 0, gaussNewtonVector: 0 };

  add(kind: CostKind, n = 1): void {
    this.counts[kind] += n;
  }

  /** Everything spent, in gradient-evaluation equivalents. */
  get gradientEquivalents(): number {
    return (Object.keys(COST) as CostKind[]).reduce((s, k) => s + COST[k] * this.counts[k], 0);
  }
}

/** Says which tfjs ops cannot be differentiated twice, when tfjs says it cannot find a gradient. */
function explain(e: unknown, label: string): Error {
  const msg = String((e as Error)?.message ?? e);
  if (/Cannot compute gradient|gradient function not found|Cannot find a connection/.test(msg))
    return new Error(
      `${label}: tfjs cannot differentiate this loss twice (${msg.split('\n')[0]}). ` +
        'Either the loss is linear in the variables (no curvature to use), or it uses an op that tfjs 4.22 cannot differentiate twice: ' +
        'tf.logSoftmax, tf.losses.softmaxCrossEntropy and other ops whose gradient saves an intermediate value do. ' +
        "write the loss with tf.logSumExp, or use splitLoss(outputs, 'softmax-cross-entropy', labels) with curvature 'gauss-newton'",
    );
  return e instanceof Error ? e : new Error(msg);
}

function gradsOf(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: TensorList } {
  const { value, grads } = tf.variableGrads(f, vars);
  return { value, grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

/** Loss and gradient at the variables' current values. */
export function lossAndGradient(f: () => tf.Scalar, vars: tf.Variable[]): { loss: number; grads: TensorList } {
  const { value, grads } = gradsOf(f, vars);
  const loss = value.dataSync()[0]!;
  value.dispose();
  return { loss, grads };
}

/** The loss alone. */
export function lossOnly(f: () => tf.Scalar): number {
  const v = tf.tidy(f);
  const out = v.dataSync()[0]!;
  v.dispose();
  return out;
}

/** H v at the variables' current values. */
export function hessianVector(f: () => tf.Scalar, vars: tf.Variable[], v: TensorList, label = 'optimizer'): TensorList {
  try {
    return withExactSecondDerivatives(() =>
      tf.tidy(() => {
        const { grads } = gradsOf(() => {
          const inner = gradsOf(f, vars);
          return tf.addN(inner.grads.map((g, i) => tf.sum(tf.mul(g, v[i]!)))) as tf.Scalar;
        }, vars);
        return grads;
      }),
    );
  } catch (e) {
    throw explain(e, label);
  }
}

/** G v at the variables' current values; z are the outputs there (for H_L). */
export function gaussNewtonVector(split: SplitLoss, vars: tf.Variable[], z: tf.Tensor, v: TensorList, label = 'optimizer'): TensorList {
  try {
    return withExactSecondDerivatives(() =>
      tf.tidy(() => {
        const jv = tf.grad((u: tf.Tensor) => {
          const { grads } = gradsOf(() => tf.sum(tf.mul(split.outputs(), u)), vars);
          return tf.addN(grads.map((g, i) => tf.sum(tf.mul(g, v[i]!)))) as tf.Scalar;
        })(tf.zerosLike(z));
        const s = split.lossHessian(z, jv);
        return gradsOf(() => tf.sum(tf.mul(split.outputs(), s)), vars).grads;
      }),
    );
  } catch (e) {
    throw explain(e, label);
  }
}
