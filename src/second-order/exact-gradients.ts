/**
 * Second derivatives that tfjs 4.22 gets wrong, made right for the duration
 * of a call.
 *
 * tfjs saves a kernel's *outputs* for its gradient by cloning them before the
 * kernel's own tape node is recorded, so in a second backward pass (tf.grad of
 * a tf.grad) the saved output is a constant: the second derivative loses the
 * term through it. Measured on 4.22: tanh, sigmoid and sigmoid cross-entropy
 * give silently wrong Hessian-vector products, softmax and log-softmax throw.
 * Gradients that read only the kernel's *inputs* are exact.
 *
 * `withExactSecondDerivatives(fn)` registers, for the kernels whose gradient
 * reads its output, gradients with the same first-order values that recompute
 * what they need from the inputs (and zero gradients for comparisons, which
 * tfjs leaves without any), runs fn, and puts tfjs's own back (also on a
 * throw). Nothing changes outside the call. The kernels whose gradient
 * still reads an output (Max, Min, the max pools) only use it to pick the
 * winning element, a mask whose derivative is zero anyway.
 */
import * as tf from '@tensorflow/tfjs';

type GradConfig = ReturnType<typeof tf.getGradient>;

const one = (): tf.Scalar => tf.scalar(1);

/** The replacements, each reading inputs only. Derivatives of what they compute are again exact, recursively. */
const EXACT: readonly GradConfig[] = [
  {
    kernelName: 'Tanh',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.mul(dy as tf.Tensor, tf.sub(one(), tf.square(tf.tanh(x)))) };
    },
  },
  {
    kernelName: 'Sigmoid',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return {
        x: () => {
          const y = tf.sigmoid(x);
          return tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(one(), y)));
        },
      };
    },
  },
  {
    kernelName: 'Exp',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.mul(dy as tf.Tensor, tf.exp(x)) };
    },
  },
  {
    kernelName: 'Softmax',
    inputsToSave: ['logits'],
    gradFunc: (dy, saved, attrs) => {
      const [logits] = saved as [tf.Tensor];
      const dim = (attrs as unknown as { dim: number }).dim;
      return {
        logits: () => {
          const y = tf.softmax(logits, dim);
          const dyY = tf.mul(dy as tf.Tensor, y);
          return tf.sub(dyY, tf.mul(tf.sum(dyY, [dim], true), y));
        },
      };
    },
  },
  {
    kernelName: 'LogSoftmax',
    inputsToSave: ['logits'],
    gradFunc: (dy, saved, attrs) => {
      const [logits] = saved as [tf.Tensor];
      const axis = (attrs as unknown as { axis: number }).axis;
      return { logits: () => tf.sub(dy as tf.Tensor, tf.mul(tf.sum(dy as tf.Tensor, axis, true), tf.softmax(logits, axis))) };
    },
  },
  {
    kernelName: 'Elu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      // elu'(x) = 1 for x > 0, exp(x) otherwise.
      return { x: () => tf.mul(dy as tf.Tensor, tf.where(tf.greater(x, 0), tf.onesLike(x), tf.exp(tf.minimum(x, 0)))) };
    },
  },
  {
    kernelName: 'Pow',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const out = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const fit = (t: tf.Tensor, like: tf.Tensor): tf.Tensor => {
        const axes = tf.broadcast_util.getReductionAxes(like.shape, out);
        return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, like.shape);
      };
      return {
        a: () => {
          const bf = tf.cast(b, 'float32');
          return fit(tf.mul(dy as tf.Tensor, tf.mul(bf, tf.pow(a, tf.sub(bf, one())))), a);
        },
        b: () => {
          const logA = tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a));
          return fit(tf.mul(dy as tf.Tensor, tf.mul(tf.pow(a, b), logA)), b);
        },
      };
    },
  },
  // Comparisons: tfjs registers no gradient for them, which is right for a
  // first derivative (nothing flows into a mask) but a second pass meets them
  // on the path (Max's gradient compares x with max(x), as in logSumExp, and
  // Elu's above): they are piecewise constant, so their derivative is zero.
  ...['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual'].map(
    (kernelName): GradConfig => ({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, saved) => {
        const [a, b] = saved as [tf.Tensor, tf.Tensor];
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    }),
  ),
];

/** Kernels whose tfjs 4.22 gradient is replaced (or, for comparisons, supplied) inside `withExactSecondDerivatives`. */
export const PATCHED_KERNELS: readonly string[] = EXACT.map((g) => g.kernelName);

let depth = 0;
let originals: (GradConfig | undefined)[] = [];

/** Runs fn with exact second derivatives for the kernels in PATCHED_KERNELS (re-entrant). */
export function withExactSecondDerivatives<T>(fn: () => T): T {
  if (depth === 0) {
    originals = EXACT.map((g) => tf.getGradient(g.kernelName) as GradConfig | undefined);
    for (const g of EXACT) tf.registerGradient(g);
  }
  depth++;
  try {
    return fn();
  } finally {
    depth--;
    if (depth === 0) {
      EXACT.forEach((g, i) => {
        const o = originals[i];
        if (o) tf.registerGradient(o);
        else tf.unregisterGradient(g.kernelName);
      });
      originals = [];
    }
  }
}
