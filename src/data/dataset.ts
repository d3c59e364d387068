/**
 * In-memory datasets for the tfjs tasks: flat typed arrays with per-example
 * shapes, split into train and validation once, by a seeded permutation.
 */
import type { Rng } from './rng.js';

export interface Split {
  /** n examples, each `xShape`, row-major. */
  x: Float32Array;
  /** Class indices (`yKind` 'class') or targets shaped `yShape` ('real'). */
  y: Float32Array | Int32Array;
  n: number;
}

export interface Dataset {
  xShape: number[];
  yShape: number[];
  yKind: 'class' | 'real';
  /** Number of classes when `yKind` is 'class'. */
  classes?: number;
  train: Split;
  val: Split;
  /** Where the data comes from, for `optevo tasks`. */
  source: string;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Picks rows `idx` of a row-major array whose rows have `width` elements. */
export function takeRows<T extends Float32Array | Int32Array>(a: T, width: number, idx: ArrayLike<number>): T {
  const out = new (a.constructor as new (n: number) => T)(idx.length * width);
  for (let i = 0; i < idx.length; i++) out.set(a.subarray(idx[i]! * width, (idx[i]! + 1) * width), i * width);
  return out;
}

/** A seeded train/validation split of `n` examples: the first `nTrain` of a permutation train, the next `nVal` validate. */
export function split(
  x: Float32Array,
  y: Float32Array | Int32Array,
  xWidth: number,
  yWidth: number,
  nTrain: number,
  nVal: number,
  r: Rng,
): { train: Split; val: Split } {
  const n = x.length / xWidth;
  if (nTrain + nVal > n) throw new Error(`split: ${nTrain} + ${nVal} examples asked of ${n}`);
  const p = r.permutation(n);
  const tr = p.subarray(0, nTrain);
  const va = p.subarray(nTrain, nTrain + nVal);
  return {
    train: { x: takeRows(x, xWidth, tr), y: takeRows(y, yWidth, tr), n: nTrain },
    val: { x: takeRows(x, xWidth, va), y: takeRows(y, yWidth, va), n: nVal },
  };
}
