/**
 * Solves (H + lambda I) d = g for a small symmetric H in float64 by Cholesky.
 * Where H + lambda I is not positive definite (the Hessian away from a
 * minimum), the smallest shift tau = tau0 2^k, tau0 = 1e-3 max|H_ii| (or
 * 1e-3), that makes H + (lambda + tau) I positive definite is added
 * (Nocedal and Wright, algorithm 3.3, "Cholesky with added multiple of the
 * identity"), so the step is still a descent direction.
 */

/** Lower-triangular L with L L' = A (row-major n x n), or null when A is not positive definite. */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

function solveCholesky(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

export interface DampedSolve {
  d: Float64Array;
  /** The shift added beyond lambda (0 when H + lambda I was positive definite). */
  shift: number;
}

/** d with (H + (lambda + shift) I) d = g; H is symmetrised first. */
export function solveDamped(h: Float64Array, n: number, g: Float64Array, lambda: number): DampedSolve {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (h[i * n + j]! + h[j * n + i]!) / 2;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * n + i]!));
  let shift = 0;
  const tau0 = maxDiag > 0 ? 1e-3 * maxDiag : 1e-3;
  for (let k = 0; k < 200; k++) {
    const m = Float64Array.from(a);
    for (let i = 0; i < n; i++) m[i * n + i]! += lambda + shift;
    const l = cholesky(m, n);
    if (l) return { d: solveCholesky(l, n, g), shift };
    shift = shift === 0 ? tau0 : shift * 2;
  }
  throw new Error('newton: could not make the damped Hessian positive definite (non-finite entries?)');
}
