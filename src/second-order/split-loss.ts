/**
 * A loss given as the model's outputs plus a loss of those outputs,
 * f(w) = L(z(w)), which the Gauss-Newton matrix G = J' H_L J needs (J the
 * Jacobian of z, H_L the Hessian of L in z). `splitLoss(...)` is still an
 * ordinary closure returning the loss, so any optimizer's `minimize` takes it.
 *
 * The built-in losses are convex in z (so G is positive semi-definite) and
 * know their H_L products in closed form; a custom loss function gets its
 * H_L products by double backpropagation in z, and G is only guaranteed PSD
 * when that loss is convex.
 */
import * as tf from '@tensorflow/tfjs';
import { withExactSecondDerivatives } from './exact-gradients.js';

export type BuiltinLoss = 'mse' | 'softmax-cross-entropy' | 'sigmoid-cross-entropy';
export const BUILTIN_LOSSES: readonly BuiltinLoss[] = ['mse', 'softmax-cross-entropy', 'sigmoid-cross-entropy'];

export interface SplitLoss {
  (): tf.Scalar;
  /** The model's outputs z(w), built from the variables. */
  readonly outputs: () => tf.Tensor;
  /** L(z). */
  readonly loss: (z: tf.Tensor) => tf.Scalar;
  /** H_L(z) u. */
  readonly lossHessian: (z: tf.Tensor, u: tf.Tensor) => tf.Tensor;
  readonly lossName: string;
  /**
   * Where curvature products are taken instead (Martens 2010: a mini-batch,
   * a fraction of the data the loss and gradient use), and that fraction, by
   * which their cost is counted. Set with `withCurvatureBatch`.
   */
  readonly curvature?: { readonly split: SplitLoss; readonly fraction: number };
}

/**
 * The same loss, with its Gauss-Newton products taken on `batch` (the same
 * model on a subset of the examples, `fraction` of them), as Martens (2010)
 * does: CG then costs `fraction` of a full-batch product per iteration.
 */
export function withCurvatureBatch(full: SplitLoss, batch: SplitLoss, fraction: number): SplitLoss {
  if (!isSplitLoss(full) || !isSplitLoss(batch)) throw new Error('withCurvatureBatch: both losses must come from splitLoss');
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`withCurvatureBatch: fraction must be in (0, 1], got ${fraction}`);
  const f = (() => full()) as SplitLoss;
  return Object.assign(f, { outputs: full.outputs, loss: full.loss, lossHessian: full.lossHessian, lossName: full.lossName, curvature: { split: batch, fraction } });
}

export function isSplitLoss(f: unknown): f is SplitLoss {
  return typeof f === 'function' && typeof (f as Partial<SplitLoss>).outputs === 'function' && typeof (f as Partial<SplitLoss>).lossHessian === 'function';
}

/** Mean over all elements of (z - y)^2, as tf.losses.meanSquaredError. */
function mse(y: tf.Tensor): Pick<SplitLoss, 'loss' | 'lossHessian'> {
  return {
    loss: (z) => tf.mean(tf.square(tf.sub(z, y))),
    lossHessian: (z, u) => tf.mul(u, 2 / z.size),
  };
}

/** Mean over rows of -sum(y log softmax(z)) along the last axis. */
function softmaxCrossEntropy(y: tf.Tensor): Pick<SplitLoss, 'loss' | 'lossHessian'> {
  const rows = (z: tf.Tensor) => z.size / z.shape[z.rank - 1]!;
  return {
    // logSumExp rather than tf.logSoftmax: the latter's gradient reads an intermediate, which breaks second derivatives.
    loss: (z) => tf.div(tf.neg(tf.sum(tf.mul(y, tf.sub(z, tf.logSumExp(z, -1, true))))), rows(z)),
    lossHessian: (z, u) =>
      tf.tidy(() => {
        const p = tf.softmax(z);
        const pu = tf.mul(p, u);
        return tf.div(tf.sub(pu, tf.mul(p, tf.sum(pu, -1, true))), rows(z));
      }),
  };
}

/** Mean over all elements of the cross-entropy of sigmoid(z) against y in [0, 1]. */
function sigmoidCrossEntropy(y: tf.Tensor): Pick<SplitLoss, 'loss' | 'lossHessian'> {
  return {
    loss: (z) => tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))),
    lossHessian: (z, u) =>
      tf.tidy(() => {
        const p = tf.sigmoid(z);
        return tf.div(tf.mul(tf.mul(p, tf.sub(1, p)), u), z.size);
      }),
  };
}

function custom(loss: (z: tf.Tensor) => tf.Scalar): Pick<SplitLoss, 'loss' | 'lossHessian'> {
  return {
    loss,
    lossHessian: (z, u) => withExactSecondDerivatives(() => tf.tidy(() => tf.grad((zz: tf.Tensor) => tf.sum(tf.mul(tf.grad(loss)(zz), u)))(z))),
  };
}

/**
 * `splitLoss(() => model.apply(x), 'mse', y)`, or with a loss function of the
 * outputs: `splitLoss(() => net(x), (z) => myLoss(z, y))`.
 */
export function splitLoss(outputs: () => tf.Tensor, loss: BuiltinLoss | ((z: tf.Tensor) => tf.Scalar), targets?: tf.Tensor): SplitLoss {
  if (typeof outputs !== 'function') throw new Error('splitLoss: outputs must be a function () => tensor of the model outputs');
  let parts: Pick<SplitLoss, 'loss' | 'lossHessian'>;
  let name: string;
  if (typeof loss === 'function') {
    parts = custom(loss);
    name = 'custom';
  } else {
    if (!BUILTIN_LOSSES.includes(loss)) throw new Error(`splitLoss: unknown loss '${String(loss)}' (${BUILTIN_LOSSES.join(', ')}, or a function of the outputs)`);
    if (!(targets instanceof tf.Tensor)) throw new Error(`splitLoss: the '${loss}' loss needs the targets as its third argument`);
    parts = loss === 'mse' ? mse(targets) : loss === 'softmax-cross-entropy' ? softmaxCrossEntropy(targets) : sigmoidCrossEntropy(targets);
    name = loss;
  }
  const f = (() => parts.loss(outputs())) as SplitLoss;
  return Object.assign(f, { outputs, loss: parts.loss, lossHessian: parts.lossHessian, lossName: name });
}
