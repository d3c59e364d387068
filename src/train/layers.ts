/**
 * Model building blocks as pure functions of parameter tensors, each working
 * on one model (replicas null) or on K replicas stacked on a leading axis.
 *
 * Two wasm facts shape them (docs/field-notes.md):
 *  - `matMul` with transposeA/transposeB, which tfjs's own matmul gradient
 *    uses, is several times slower on wasm than an explicit transpose
 *    followed by a plain matMul, so the dense layers carry their own
 *    gradients (tf.customGrad) written with explicit transposes;
 *  - the first layer of K replicas reads the same input, so it is one GEMM
 *    over the replicas' weights side by side: x[B, in] @ W[in, K*out].
 */
import type { Tensor, Tfjs } from '../tasks/types.js';
import type { ParamSpec } from '../tasks/types.js';
import type { InitRule } from './init.js';
import { biasReluPool, reluPoolGrad } from './relu-pool.js';

type T2 = import('@tensorflow/tfjs').Tensor2D;
type T3 = import('@tensorflow/tfjs').Tensor3D;
type T4 = import('@tensorflow/tfjs').Tensor4D;

type Save = (ts: Tensor[]) => void;

/**
 * Dense layer on data (no gradient for x): x [B, in] -> [B, out] or [K, B, out].
 * Tensors the gradient needs are either from outside the forward pass (x) or
 * saved with `save`: tfjs disposes the rest when the forward pass ends.
 */
export function denseInput(tf: Tfjs, x: Tensor, w: Tensor, b: Tensor, replicas: number | null): Tensor {
  const x2 = x as T2;
  if (replicas === null) {
    const f = tf.customGrad(((wt: Tensor, bt: Tensor) => ({
      value: tf.add(tf.matMul(x2, wt as T2), bt),
      gradFunc: (dy: Tensor) => [tf.matMul(tf.transpose(x2), dy as T2), tf.reshape(columnSums(tf, dy as T2), bt.shape)],
    })) as never) as (w: Tensor, b: Tensor) => Tensor;
    return f(w, b);
  }
  const K = replicas;
  const [, inW, outW] = w.shape as [number, number, number];
  const B = x.shape[0];
  const f = tf.customGrad(((wt: Tensor, bt: Tensor, save: Save) => {
    // z^T = W^T x^T, not z = x W: wasm's matmul packs its second operand
    // afresh for every call, and x^T [in, B] is an eighth of W's size (K = 8
    // on the standard MLP: 9 ms against 15 ms a step). x^T serves the gradient too.
    const xt = tf.transpose(x2);
    save([xt]);
    const wt2 = tf.reshape(tf.transpose(wt, [0, 2, 1]), [K * outW, inW]) as T2;
    const z = tf.transpose(tf.reshape(tf.matMul(wt2, xt), [K, outW, B]), [0, 2, 1]);
    return {
      value: tf.add(z, tf.expandDims(bt, 1)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const dyc = tf.reshape(tf.transpose(dy, [1, 0, 2]), [B, K * outW]) as T2;
        const dw = tf.transpose(tf.reshape(tf.matMul(saved[0] as T2, dyc), [inW, K, outW]), [1, 0, 2]);
        return [dw, tf.reshape(columnSums(tf, dyc), [K, outW])];
      },
    };
  }) as never) as (w: Tensor, b: Tensor) => Tensor;
  return f(w, b);
}

/** Dense layer on a hidden activation h: [B, in] -> [B, out], or [K, B, in] -> [K, B, out]. */
export function dense(tf: Tfjs, h: Tensor, w: Tensor, b: Tensor, replicas: number | null): Tensor {
  if (replicas === null) {
    const f = tf.customGrad(((ht: Tensor, wt: Tensor, bt: Tensor, save: Save) => {
      save([ht, wt]);
      return {
        value: tf.add(tf.matMul(ht as T2, wt as T2), bt),
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [hs, ws] = saved as [T2, T2];
          return [tf.matMul(dy as T2, tf.transpose(ws)), tf.matMul(tf.transpose(hs), dy as T2), tf.sum(dy, 0)];
        },
      };
    }) as never) as (h: Tensor, w: Tensor, b: Tensor) => Tensor;
    return f(h, w, b);
  }
  // One plain 2-D matmul per replica: wasm runs a batched matmul ([K, B, in]
  // @ [K, in, out]) with a naive loop, 1.5-4x slower than K vectorised 2-D
  // ones (bench/layers.ts) now that unstacking is a plain copy
  // (src/wasm-kernels.ts), except on small layers, where the K-fold kernel
  // calls cost more than the loop (measured, K = 8: [32, 32] -> 10 (1.6e5
  // flops) 0.70 ms batched against 0.96 sliced; [64, 64] -> 4 (2.6e5) 0.97
  // against 0.72; [128, 128] -> 10: 7.8 against 2.9).
  const K = replicas;
  const [, B, inW] = h.shape as [number, number, number];
  if (2 * K * B * inW * w.shape[2]! < SLICED_DENSE_FLOPS) return denseBatched(tf, h, w, b);
  const f = tf.customGrad(((ht: Tensor, wt: Tensor, bt: Tensor, save: Save) => {
    const hs = tf.unstack(ht) as T2[];
    const ws = tf.unstack(wt) as T2[];
    save([...hs, ...ws]);
    return {
      value: tf.add(tf.stack(hs.map((hk, k) => tf.matMul(hk, ws[k]!))), tf.expandDims(bt, 1)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const hk = saved.slice(0, K) as T2[];
        const wk = saved.slice(K) as T2[];
        const dys = tf.unstack(dy) as T2[];
        return [
          tf.stack(dys.map((d, k) => tf.matMul(d, tf.transpose(wk[k]!)))),
          tf.stack(dys.map((d, k) => tf.matMul(tf.transpose(hk[k]!), d))),
          tf.sum(dy, 1),
        ];
      },
    };
  }) as never) as (h: Tensor, w: Tensor, b: Tensor) => Tensor;
  return f(h, w, b);
}

/** Below this many floating-point operations a stacked dense layer runs as one batched matmul. */
const SLICED_DENSE_FLOPS = 2e5;

/** A stacked dense layer as batched matmuls [K, B, in] @ [K, in, out]. */
function denseBatched(tf: Tfjs, h: Tensor, w: Tensor, b: Tensor): Tensor {
  const f = tf.customGrad(((ht: Tensor, wt: Tensor, bt: Tensor, save: Save) => {
    save([ht, wt]);
    return {
      value: tf.add(tf.matMul(ht as T3, wt as T3), tf.expandDims(bt, 1)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [hs, ws] = saved as [T3, T3];
        return [tf.matMul(dy as T3, tf.transpose(ws, [0, 2, 1]) as T3), tf.matMul(tf.transpose(hs, [0, 2, 1]) as T3, dy as T3), tf.sum(dy, 1)];
      },
    };
  }) as never) as (h: Tensor, w: Tensor, b: Tensor) => Tensor;
  return f(h, w, b);
}

/**
 * Sums of the rows of a tall matrix [N, C] as a matmul with a row of ones: on
 * wasm a reduction over the first axis transposes first and is many times slower.
 */
export function columnSums(tf: Tfjs, m: T2): Tensor {
  return tf.matMul(tf.ones([1, m.shape[0]]) as T2, m);
}

/**
 * An embedding lookup as a matmul with one-hot rows: tokens [N] (int32), table
 * [V, d] or [K, V, d] -> [N, d] or [K, N, d]... returned as [N, K*d] for K
 * replicas (replica-major columns). Its gradient is onehot^T @ dy, where
 * gather's would be UnsortedSegmentSum (which wasm lacks).
 */
export function embed(tf: Tfjs, tokens: Tensor, table: Tensor, replicas: number | null): Tensor {
  const lead = replicas === null ? 0 : 1;
  const [V, d] = table.shape.slice(lead) as [number, number];
  const K = replicas ?? 1;
  const oh = tf.oneHot(tokens as import('@tensorflow/tfjs').Tensor1D, V).toFloat() as T2;
  const op = tf.customGrad(((tt: Tensor, save: Save) => {
    save([oh]);
    const tc = replicas === null ? (tt as T2) : (tf.reshape(tf.transpose(tt, [1, 0, 2]), [V, K * d]) as T2);
    return {
      value: tf.matMul(oh, tc),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const dtc = tf.matMul(tf.transpose(saved[0] as T2), dy as T2);
        return [replicas === null ? dtc : tf.transpose(tf.reshape(dtc, [V, K, d]), [1, 0, 2])];
      },
    };
  }) as never) as (t: Tensor) => Tensor;
  return op(table);
}

/**
 * A convolution as one matmul over image patches (im2col): the patches of
 * the input come from a convolution with a constant one-hot filter bank (no
 * gradient flows there: x is data), then patches [N, P] @ W [P, F]. K
 * replicas put their filters side by side: [N, P] @ [P, K*F]. This avoids
 * the conv2d filter gradient, which wasm lacks and cpu computes slowly.
 * x [B, H, W, C], w [kh, kw, C, F] (or [K, kh, kw, C, F]), b [F] (or [K, F]):
 * gives [B, H', W', F] (or [B, H', W', K*F], replica-major channels).
 */
export function convPatches(tf: Tfjs, x: Tensor, w: Tensor, b: Tensor, replicas: number | null): Tensor {
  const lead = replicas === null ? 0 : 1;
  const [kh, kw, c, f] = w.shape.slice(lead) as [number, number, number, number];
  const [B, H, W] = x.shape as [number, number, number, number];
  const P = kh * kw * c;
  const oh = H - kh + 1;
  const ow = W - kw + 1;
  const K = replicas ?? 1;
  const op = tf.customGrad(((wt: Tensor, bt: Tensor, save: Save) => {
    const eye = new Float32Array(P * P);
    for (let i = 0; i < P; i++) eye[i * P + i] = 1;
    const bank = tf.tensor4d(eye, [kh, kw, c, P]);
    const patches = tf.reshape(tf.conv2d(x as import('@tensorflow/tfjs').Tensor4D, bank, 1, 'valid'), [B * oh * ow, P]) as T2;
    // Kept for the gradient: tensors made in the forward pass are freed when it ends.
    save([patches]);
    const wc = replicas === null ? (tf.reshape(wt, [P, f]) as T2) : (tf.reshape(tf.transpose(tf.reshape(wt, [K, P, f]), [1, 0, 2]), [P, K * f]) as T2);
    return {
      value: tf.add(tf.matMul(patches, wc), tf.reshape(bt, [K * f])),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const dwc = tf.matMul(tf.transpose(saved[0] as T2), dy as T2);
        const dw = replicas === null ? tf.reshape(dwc, wt.shape) : tf.reshape(tf.transpose(tf.reshape(dwc, [P, K, f]), [1, 0, 2]), wt.shape);
        return [dw, tf.reshape(columnSums(tf, dy as T2), bt.shape)];
      },
    };
  }) as never) as (w: Tensor, b: Tensor) => Tensor;
  return tf.reshape(op(w, b), [B, oh, ow, K * f]);
}

/**
 * Image patches as rows (im2col) for a valid kh x kw convolution: x [B, H, W, C]
 * gives [B*H'*W', kh*kw*C], from a convolution with a constant one-hot filter
 * bank (x is data: no gradient flows there).
 */
export function imagePatches(tf: Tfjs, x: Tensor, kh: number, kw: number): T2 {
  const [B, H, W, c] = x.shape as [number, number, number, number];
  const P = kh * kw * c;
  const eye = new Float32Array(P * P);
  for (let i = 0; i < P; i++) eye[i * P + i] = 1;
  const bank = tf.tensor4d(eye, [kh, kw, c, P]);
  return tf.reshape(tf.conv2d(x as T4, bank, 1, 'valid'), [B * (H - kh + 1) * (W - kw + 1), P]) as T2;
}

/**
 * One model's convolution from shared patches [N, P] (and their transpose
 * [P, N], made once for every replica): patches @ w [P, F] + b, with its own
 * gradient (pt @ dy, and the bias's as a ones-row matmul): no conv2d filter
 * gradient, which wasm lacks.
 */
export function patchConv(tf: Tfjs, patches: T2, pt: T2, w: Tensor, b: Tensor): T2 {
  const op = tf.customGrad(((wt: Tensor, bt: Tensor, save: Save) => {
    // Kept for the gradient: tensors made in the forward pass are freed when it ends.
    save([pt]);
    return {
      value: tf.add(tf.matMul(patches, wt as T2), bt),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.matMul(saved[0] as T2, dy as T2), tf.reshape(columnSums(tf, dy as T2), bt.shape)],
    };
  }) as never) as (w: Tensor, b: Tensor) => Tensor;
  return op(w, b) as T2;
}

/**
 * 2x2 max-pool (stride 2, valid) of [B, H, W, C] with its own gradient: the
 * output gradient, upsampled, where the input equals its window's maximum.
 * wasm's MaxPoolGrad takes several milliseconds a batch; this is three
 * elementwise-sized kernels. Ties (equal values in a window) share the
 * gradient; after a relu the only ties are zeros, whose relu gradient is 0.
 */
export function maxPool2(tf: Tfjs, x: Tensor): Tensor {
  const [, H, W] = x.shape as [number, number, number, number];
  const op = tf.customGrad(((xt: Tensor, save: Save) => {
    const y = tf.maxPool(xt as T4, 2, 2, 'valid');
    save([xt, y]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xs, ys] = saved as [T4, T4];
        const h = 2 * ys.shape[1];
        const w = 2 * ys.shape[2];
        const up = (t: Tensor) => tf.image.resizeNearestNeighbor(t as T4, [h, w]);
        const xc = h === H && w === W ? xs : tf.slice(xs, [0, 0, 0, 0], [xs.shape[0], h, w, xs.shape[3]]);
        const g = tf.mul(up(dy), tf.cast(tf.equal(xc, up(ys)), 'float32'));
        return [h === H && w === W ? g : tf.pad(g, [[0, 0], [0, H - h], [0, W - w], [0, 0]])];
      },
    };
  }) as never) as (x: Tensor) => Tensor;
  return op(x);
}

/**
 * One model's convolution, relu and 2x2 max-pool (stride 2, valid) from
 * shared patches [N, P] (N = B * side * side) and their transpose [P, N]:
 * gives [B, side/2, side/2, F] for w [P, F], b [F], with one gradient for
 * all three. The pooled gradient goes to every position of its window that
 * equals the window's maximum (after a relu the only ties are zeros, whose
 * gradient the relu stops; a tie among positive values, which needs two
 * equal patches, shares it as tfjs's resize-based form did), found as
 * step(max - z) == 0: for floats, max - z is 0 exactly when they are equal.
 * Every full-size op is one that wasm runs vectorised (a broadcast
 * multiply or subtract, step); wasm's MaxPoolGrad, ResizeNearestNeighbor
 * and Equal take several times longer (issue 14).
 */
export function patchConvReluPool(tf: Tfjs, patches: T2, pt: T2, w: Tensor, b: Tensor, B: number, side: number): Tensor {
  const f = w.shape[1]!;
  const half = Math.floor(side / 2);
  const even = 2 * half;
  const op = tf.customGrad(((wt: Tensor, bt: Tensor, save: Save) => {
    const m = tf.matMul(patches, wt as T2);
    const fast = biasReluPool(tf, m, bt, B, side);
    const z = fast ? fast[0] : (tf.reshape(tf.relu(tf.add(m, bt)), [B, side, side, f]) as T4);
    const p = fast ? fast[1] : tf.maxPool(z as T4, 2, 2, 'valid');
    // Kept for the gradient: tensors made in the forward pass are freed when it ends.
    save([z, p, pt]);
    return {
      value: p,
      gradFunc: (dp: Tensor, saved: Tensor[]) => {
        const [zs, ps, pts] = saved as [T4, T4, T2];
        const fast = reluPoolGrad(tf, zs, ps, dp);
        if (fast) {
          const dz2 = tf.reshape(fast, [B * side * side, f]) as T2;
          return [tf.matMul(pts, dz2), tf.reshape(columnSums(tf, dz2), bt.shape)];
        }
        const windows = tf.reshape(even === side ? zs : tf.slice(zs, [0, 0, 0, 0], [B, even, even, f]), [B * half, 2, half, 2, f]);
        const pooled = (t: Tensor) => tf.reshape(t, [B * half, 1, half, 1, f]);
        // The relu's gradient at the pooled level: a window whose maximum is 0 passes none.
        const g = pooled(tf.mul(dp, tf.step(ps)));
        const notMax = tf.step(tf.sub(pooled(ps), windows));
        let dz: Tensor = tf.reshape(tf.sub(g, tf.mul(g, notMax)), [B, even, even, f]);
        if (even !== side) dz = tf.pad(dz, [[0, 0], [0, side - even], [0, side - even], [0, 0]]);
        const dz2 = tf.reshape(dz, [B * side * side, f]) as T2;
        return [tf.matMul(pts, dz2), tf.reshape(columnSums(tf, dz2), bt.shape)];
      },
    };
  }) as never) as (w: Tensor, b: Tensor) => Tensor;
  return op(w, b);
}

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'linear';

export function activate(tf: Tfjs, x: Tensor, a: Activation): Tensor {
  switch (a) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'linear':
      return x;
    default: {
      const never: never = a;
      throw new Error(`unknown activation ${String(never)}`);
    }
  }
}

/** Parameter specs of an MLP with the given layer widths. */
export function mlpParams(widths: readonly number[], init: InitRule, prefix = ''): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    out.push({ name: `${prefix}w${l + 1}`, shape: [widths[l]!, widths[l + 1]!], init });
    out.push({ name: `${prefix}b${l + 1}`, shape: [widths[l + 1]!], init: { kind: 'zeros' } });
  }
  return out;
}

/** An MLP over parameters [w1, b1, w2, b2, ...]: hidden layers use `act`, the last is linear. */
export function mlpForward(tf: Tfjs, ps: Tensor[], x: Tensor, replicas: number | null, act: Activation, first: 'input' | 'hidden' = 'input'): Tensor {
  const layers = ps.length / 2;
  let h = x;
  for (let l = 0; l < layers; l++) {
    const w = ps[2 * l]!;
    const b = ps[2 * l + 1]!;
    const z = l === 0 && first === 'input' ? denseInput(tf, h, w, b, replicas) : dense(tf, h, w, b, replicas);
    h = l + 1 < layers ? activate(tf, z, act) : z;
  }
  return h;
}
