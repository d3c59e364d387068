/**
 * Parameter-shaped vectors for the second-order optimizers: one tensor per
 * variable, never concatenated (so no copy of the whole model per product).
 * Every operation returns new tensors that the caller disposes; scalars come
 * back to JavaScript, as CG needs them there.
 */
import * as tf from '@tensorflow/tfjs';
import type { VectorSpace } from './cg.js';

export type TensorList = tf.Tensor[];

export function disposeList(v: TensorList): void {
  for (const t of v) t.dispose();
}

export function dotLists(a: TensorList, b: TensorList): number {
  const s = tf.tidy(() => tf.addN(a.map((t, i) => tf.sum(tf.mul(t, b[i]!)))));
  const out = s.dataSync()[0]!;
  s.dispose();
  return out;
}

/** a x + y. */
export function axpyLists(a: number, x: TensorList, y: TensorList): TensorList {
  return tf.tidy(() => x.map((t, i) => (a === 0 ? tf.clone(y[i]!) : tf.add(tf.mul(t, a), y[i]!))));
}

export const TENSOR_SPACE: VectorSpace<TensorList> = {
  dot: dotLists,
  copy: (v) => v.map((t) => tf.clone(t)),
  axpy: axpyLists,
  dispose: disposeList,
};

export function sizeOf(vars: readonly tf.Tensor[]): number {
  return vars.reduce((s, v) => s + v.size, 0);
}
