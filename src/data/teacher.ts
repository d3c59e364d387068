/**
 * Teacher-student regression: inputs with correlated, badly scaled features
 * (x = z A, the singular values of A log-spaced over `condition`), targets
 * from a random one-hidden-layer tanh teacher plus a little noise. The
 * correlation is what PCA whitening undoes.
 */
import { rng } from './rng.js';

export interface TeacherData {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

export function teacherStudent(
  seed: number | string,
  opts: { n: number; inputs: number; hidden: number; outputs: number; condition: number; noise: number },
): TeacherData {
  const { n, inputs: d, hidden: h, outputs: o, condition, noise } = opts;
  const r = rng('teacher', seed, 'model');
  // A = U diag(s) with U a random rotation-like mixing (Gaussian, columns normalised).
  const a = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) a[i] = r.normal();
  for (let c = 0; c < d; c++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += a[k * d + c]! ** 2;
    const sv = Math.pow(condition, -c / Math.max(1, d - 1));
    for (let k = 0; k < d; k++) a[k * d + c] = (a[k * d + c]! / Math.sqrt(s)) * sv;
  }
  const w1 = Float64Array.from({ length: d * h }, () => r.normal() * Math.sqrt(2 / d) * 2);
  const b1 = Float64Array.from({ length: h }, () => r.normal() * 0.1);
  const w2 = Float64Array.from({ length: h * o }, () => r.normal() / Math.sqrt(h));
  const dr = rng('teacher', seed, 'data');
  const x = new Float32Array(n * d);
  const y = new Float32Array(n * o);
  const z = new Float64Array(d);
  const xi = new Float64Array(d);
  const hid = new Float64Array(h);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) z[k] = dr.normal();
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += z[k]! * a[k * d + c]!;
      xi[c] = s;
    }
    // Inputs are re-scaled so that the widest principal direction has unit spread.
    for (let c = 0; c < d; c++) x[i * d + c] = xi[c]!;
    // The teacher sees the unmixed signal so that every direction matters equally.
    for (let j = 0; j < h; j++) {
      let s = b1[j]!;
      for (let k = 0; k < d; k++) s += z[k]! * w1[k * h + j]!;
      hid[j] = Math.tanh(s);
    }
    for (let q = 0; q < o; q++) {
      let s = 0;
      for (let j = 0; j < h; j++) s += hid[j]! * w2[j * o + q]!;
      y[i * o + q] = s + noise * dr.normal();
    }
  }
  return { x, y, n };
}
