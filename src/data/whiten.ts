/**
 * Input decorrelation by PCA whitening (the seed notes' "decorrelate the
 * inputs"): centre the training inputs, rotate them onto the principal axes of
 * their covariance and scale each axis to unit variance. Fitted on the
 * training split only, then applied to both splits.
 *
 * The eigen-decomposition is cyclic Jacobi in float64: exact and dependable
 * for the input widths of the proxy tasks (up to a few hundred).
 */

export interface Whitening {
  mean: Float64Array;
  /** d x d, row-major: x_white = (x - mean) @ matrix. */
  matrix: Float64Array;
  /** Eigenvalues of the training covariance, descending. */
  eigenvalues: Float64Array;
  d: number;
}

/** Largest input width whitening accepts (Jacobi is cubic). */
export const MAX_WHITEN_WIDTH = 256;

export function fitWhitening(x: Float32Array, d: number, epsilon = 1e-5): Whitening {
  if (d > MAX_WHITEN_WIDTH) throw new Error(`PCA whitening supports inputs up to ${MAX_WHITEN_WIDTH} wide, not ${d}`);
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / n;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  const { values, vectors } = symmetricEigen(cov, d);
  const order = [...values.keys()].sort((i, j) => values[j]! - values[i]!);
  const matrix = new Float64Array(d * d);
  const eigenvalues = new Float64Array(d);
  order.forEach((src, col) => {
    eigenvalues[col] = values[src]!;
    const s = 1 / Math.sqrt(Math.max(values[src]!, 0) + epsilon);
    for (let r = 0; r < d; r++) matrix[r * d + col] = vectors[r * d + src]! * s;
  });
  return { mean, matrix, eigenvalues, d };
}

export function applyWhitening(w: Whitening, x: Float32Array): Float32Array {
  const d = w.d;
  const n = x.length / d;
  const out = new Float32Array(x.length);
  const row = new Float64Array(d);
  const acc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - w.mean[j]!;
    acc.fill(0);
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = 0; b < d; b++) acc[b]! += ra * w.matrix[a * d + b]!;
    }
    for (let b = 0; b < d; b++) out[i * d + b] = acc[b]!;
  }
  return out;
}

/** Cyclic Jacobi eigen-decomposition of a symmetric d x d matrix. Columns of `vectors` are eigenvectors. */
export function symmetricEigen(m: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let total = 0;
    for (let p = 0; p < d; p++)
      for (let q = 0; q < d; q++) {
        const x = a[p * d + q]! * a[p * d + q]!;
        total += x;
        if (p !== q) off += x;
      }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < d - 1; p++)
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * d + p]!;
        const aqq = a[q * d + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i]!;
  return { values, vectors: v };
}
