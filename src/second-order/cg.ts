/**
 * Conjugate gradient for the damped quadratic model, after Martens (2010,
 * "Deep learning via Hessian-free optimization", sections 4.4-4.6):
 *
 *   minimise  phi(x) = 1/2 x.A x - b.x     (A = B + lambda I, b = -gradient)
 *
 * started from x0 (the previous step's direction, decayed), stopped by
 * Martens' relative-progress test
 *
 *   i > k, phi_i < 0 and (phi_i - phi_{i-k}) / phi_i < k eps,  k = max(10, 0.1 i),
 *
 * or a residual that vanishes, or negative curvature along a search direction
 * (possible with the true Hessian, never with Gauss-Newton), or the iteration
 * cap. Iterates at iterations ceil(1.3^j) and the last one are kept for CG
 * backtracking, each with its residual, so the undamped model at any kept
 * iterate is known without another curvature product.
 *
 * Pure over a vector space (tensor lists in the optimizer, float64 arrays in
 * the tests): the caller owns x0 and b; the result's vectors are the
 * caller's to dispose.
 */

export interface VectorSpace<V> {
  dot(a: V, b: V): number;
  copy(v: V): V;
  /** a x + y, a new vector. */
  axpy(a: number, x: V, y: V): V;
  dispose(v: V): void;
}

export interface CgOptions {
  maxIterations: number;
  /** Martens' eps in the relative-progress test. */
  tolerance: number;
}

export interface CgIterate<V> {
  /** 0 for x0 itself. */
  iteration: number;
  x: V;
  /** b - A x. */
  r: V;
  /** phi(x). */
  phi: number;
}

export interface CgResult<V> {
  /** Kept iterates in iteration order; the last is where CG stopped. */
  iterates: CgIterate<V>[];
  /** Curvature products used (including the one for x0's residual, when x0 is not zero). */
  products: number;
  stop: 'progress' | 'residual' | 'negative-curvature' | 'max-iterations';
}

/** Iterations at which an iterate is kept: ceil(1.3^j), j = 0, 1, ... */
export function isKept(i: number): boolean {
  if (i < 1) return false;
  for (let g = 1; g <= i; g *= 1.3) if (Math.ceil(g) === i) return true;
  return false;
}

/**
 * Runs CG on A x = b from x0. `apply(v)` returns A v (a new vector). x0 is
 * not disposed; `x0IsZero` skips the product for its residual.
 */
export function conjugateGradient<V>(space: VectorSpace<V>, apply: (v: V) => V, b: V, x0: V, x0IsZero: boolean, o: CgOptions): CgResult<V> {
  const { dot, axpy, copy, dispose } = space;
  let products = 0;
  let x = copy(x0);
  let r: V;
  if (x0IsZero) r = copy(b);
  else {
    const ax = apply(x);
    products++;
    r = axpy(-1, ax, b);
    dispose(ax);
  }
  const phiOf = (xv: V, rv: V): number => -0.5 * (dot(xv, b) + dot(xv, rv));
  let phi = phiOf(x, r);
  const iterates: CgIterate<V>[] = [];
  const history: number[] = [phi];
  let p = copy(r);
  let rr = dot(r, r);
  const bNorm = Math.sqrt(dot(b, b));
  let stop: CgResult<V>['stop'] = 'max-iterations';
  let last: CgIterate<V> = { iteration: 0, x, r, phi };
  let lastKept = false;
  for (let i = 1; i <= o.maxIterations; i++) {
    if (Math.sqrt(rr) <= 1e-12 * Math.max(bNorm, 1e-30)) {
      stop = 'residual';
      break;
    }
    const ap = apply(p);
    products++;
    const pap = dot(p, ap);
    if (!(pap > 0)) {
      dispose(ap);
      stop = 'negative-curvature';
      break;
    }
    const alpha = rr / pap;
    const xn = axpy(alpha, p, x);
    const rn = axpy(-alpha, ap, r);
    dispose(ap);
    if (!lastKept) {
      dispose(x);
      dispose(r);
    }
    x = xn;
    r = rn;
    const rrn = dot(r, r);
    const pn = axpy(rrn / rr, p, r);
    dispose(p);
    p = pn;
    rr = rrn;
    phi = phiOf(x, r);
    history.push(phi);
    last = { iteration: i, x, r, phi };
    lastKept = isKept(i);
    if (lastKept) iterates.push(last);
    const k = Math.max(10, Math.ceil(0.1 * i));
    if (i > k && phi < 0 && (phi - history[i - k]!) / phi < k * o.tolerance) {
      stop = 'progress';
      break;
    }
  }
  dispose(p);
  if (!lastKept) iterates.push(last);
  return { iterates, products, stop };
}
