/**
 * Martens' CG over plain float64 arrays: exact in n steps on an n-dimensional
 * quadratic, warm starts, kept iterates, the stopping tests; and the dense
 * damped solve behind newton.
 */
import { describe, expect, it } from 'vitest';
import { type VectorSpace, conjugateGradient, isKept } from '../../../src/second-order/cg.js';
import { cholesky, solveDamped } from '../../../src/second-order/dense-solve.js';

type V = Float64Array;
const space: VectorSpace<V> = {
  dot: (a, b) => a.reduce((s, x, i) => s + x * b[i]!, 0),
  copy: (v) => Float64Array.from(v),
  axpy: (a, x, y) => Float64Array.from(x, (xi, i) => a * xi + y[i]!),
  dispose: () => {},
};

/** A symmetric positive-definite n x n matrix with eigenvalues from 1 to 1/cond (deterministic). */
function spd(n: number, cond: number): Float64Array {
  // Q from Householder reflections of a fixed vector; A = Q diag Q'.
  const u = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const nu = Math.sqrt(space.dot(u, u));
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] = (i === j ? 1 : 0) - (2 * u[i]! * u[j]!) / (nu * nu);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k]! * Math.pow(cond, -k / (n - 1)) * q[j * n + k]!;
      a[i * n + j] = s;
    }
  return a;
}
const matvec = (a: Float64Array, n: number) => (v: V) => Float64Array.from({ length: n }, (_, i) => v.reduce((s, x, k) => s + a[i * n + k]! * x, 0));

describe('conjugateGradient', () => {
  it('solves an n-dimensional SPD system in at most n iterations', () => {
    const n = 8;
    const a = spd(n, 100);
    const b = Float64Array.from({ length: n }, (_, i) => i - 3);
    const r = conjugateGradient(space, matvec(a, n), b, new Float64Array(n), true, { maxIterations: n, tolerance: 1e-12 });
    const last = r.iterates.at(-1)!;
    expect(last.iteration).toBe(n);
    expect(r.products).toBe(n);
    expect(Math.sqrt(space.dot(last.r, last.r))).toBeLessThan(1e-9 * Math.sqrt(space.dot(b, b)));
    const ax = matvec(a, n)(last.x);
    ax.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 8));
    // phi at the solution is -1/2 b.x.
    expect(last.phi).toBeCloseTo(-0.5 * space.dot(b, last.x), 6);
  });

  it('keeps the iterates at ceil(1.3^j) and the last', () => {
    expect([...Array(15).keys()].map((i) => i + 1).filter(isKept)).toEqual([1, 2, 3, 4, 5, 7, 9, 11, 14]);
    const n = 30;
    const a = spd(n, 1e4);
    const b = Float64Array.from({ length: n }, () => 1);
    const r = conjugateGradient(space, matvec(a, n), b, new Float64Array(n), true, { maxIterations: 12, tolerance: 1e-12 });
    expect(r.stop).toBe('max-iterations');
    expect(r.iterates.map((it) => it.iteration)).toEqual([1, 2, 3, 4, 5, 7, 9, 11, 12]);
    // Each kept residual is b - A x.
    for (const it of r.iterates) {
      const ax = matvec(a, n)(it.x);
      it.r.forEach((v, i) => expect(v).toBeCloseTo(b[i]! - ax[i]!, 9));
    }
  });

  it('starts from x0 (one product for its residual) and finishes sooner from a good start', () => {
    const n = 30;
    const a = spd(n, 1e3);
    const b = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
    const o = { maxIterations: 200, tolerance: 5e-4 };
    const cold = conjugateGradient(space, matvec(a, n), b, new Float64Array(n), true, o);
    const near = space.axpy(0.95, cold.iterates.at(-1)!.x, new Float64Array(n));
    const warm = conjugateGradient(space, matvec(a, n), b, near, false, o);
    expect(warm.products).toBe(warm.iterates.at(-1)!.iteration + 1);
    expect(warm.iterates.at(-1)!.iteration).toBeLessThan(cold.iterates.at(-1)!.iteration);
    expect(warm.iterates.at(-1)!.phi).toBeLessThanOrEqual(cold.iterates.at(-1)!.phi * 0.99);
  });

  it("stops by Martens' relative-progress test on an ill-conditioned system", () => {
    const n = 60;
    const a = spd(n, 1e6);
    const b = Float64Array.from({ length: n }, () => 1);
    const r = conjugateGradient(space, matvec(a, n), b, new Float64Array(n), true, { maxIterations: 1000, tolerance: 5e-4 });
    expect(r.stop).toBe('progress');
    expect(r.iterates.at(-1)!.iteration).toBeGreaterThan(10);
  });

  it('stops at negative curvature', () => {
    const a = Float64Array.from([1, 0, 0, -1]);
    const r = conjugateGradient(space, matvec(a, 2), Float64Array.from([0, 1]), new Float64Array(2), true, { maxIterations: 10, tolerance: 5e-4 });
    expect(r.stop).toBe('negative-curvature');
    expect(Array.from(r.iterates.at(-1)!.x)).toEqual([0, 0]);
  });
});

describe('solveDamped', () => {
  it('solves (H + lambda I) d = g by Cholesky', () => {
    const n = 5;
    const h = spd(n, 10);
    const g = Float64Array.from([1, -2, 3, 0, 1]);
    const { d, shift } = solveDamped(h, n, g, 0.5);
    expect(shift).toBe(0);
    const hd = matvec(h, n)(d);
    hd.forEach((v, i) => expect(v + 0.5 * d[i]!).toBeCloseTo(g[i]!, 10));
  });

  it('shifts an indefinite matrix until it is positive definite, and says by how much', () => {
    const h = Float64Array.from([2, 0, 0, -1]);
    expect(cholesky(h, 2)).toBeNull();
    const g = Float64Array.from([1, 1]);
    const { d, shift } = solveDamped(h, 2, g, 0);
    expect(shift).toBeGreaterThan(1);
    // A descent direction: g.d > 0 (the step is -d).
    expect(g[0]! * d[0]! + g[1]! * d[1]!).toBeGreaterThan(0);
    expect(d[1]! * (-1 + shift)).toBeCloseTo(1, 10);
  });
});
