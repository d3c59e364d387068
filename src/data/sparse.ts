/**
 * Sparse logistic regression with rare informative features (AdaGrad's case,
 * "needles in the haystack"): binary features, a few common ones with weak
 * signal and many rare ones (each in about 1% of examples) with strong
 * signal; the label depends mostly on the rare ones. Examples are
 * stored sparsely (the indices of their active features).
 */
import { rng } from './rng.js';

export interface SparseData {
  d: number;
  /** CSR: example i's active features are idx[ptr[i]..ptr[i+1]). */
  ptr: Int32Array;
  idx: Int32Array;
  y: Float64Array;
  n: number;
}

export interface SparseProblem {
  d: number;
  trueWeights: Float64Array;
  train: SparseData;
  val: SparseData;
}

export function sparseLogistic(
  seed: number | string,
  opts: { d: number; nTrain: number; nVal: number; informative: number },
): SparseProblem {
  const { d, informative } = opts;
  const common = d - informative;
  const r = rng('sparse', seed, 'model');
  // Common features (the first d - informative) appear in 30% of examples and carry
  // weak signal; each example holds one rare feature with probability 0.9, drawn
  // uniformly from the `informative` rare ones, which carry strong signal.
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = j >= common ? (r() < 0.5 ? -1 : 1) * (2 + 2 * r()) : 0.3 * r.normal();
  const bias = -0.3 * w.subarray(0, common).reduce((s, v) => s + v, 0);
  const gen = (n: number, stream: string): SparseData => {
    const g = rng('sparse', seed, stream);
    const ptr = new Int32Array(n + 1);
    const idx: number[] = [];
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let z = bias;
      for (let j = 0; j < common; j++)
        if (g() < 0.3) {
          idx.push(j);
          z += w[j]!;
        }
      if (g() < 0.9) {
        const j = common + g.int(informative);
        idx.push(j);
        z += w[j]!;
      }
      ptr[i + 1] = idx.length;
      y[i] = g() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    return { d, ptr, idx: Int32Array.from(idx), y, n };
  };
  return { d, trueWeights: w, train: gen(opts.nTrain, 'train'), val: gen(opts.nVal, 'val') };
}
