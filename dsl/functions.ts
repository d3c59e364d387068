/**
 * The one table of language functions.
 *
 * Each row drives the parser (infix symbols), the checker (arity and kinds),
 * the reference interpreter (float64), the compiler to tfjs, the simplifier
 * (commutativity, identities), mutation (weights) and the printer. Adding a
 * function is adding a row here.
 *
 * tfjs is only a type here: the compiler passes the caller's tfjs module in, so
 * the engine the user trains with is the one that runs the program.
 */
import type * as TF from '@tensorflow/tfjs-core';

export type Tfjs = typeof TF;
export type Tensor = TF.Tensor;

/** A value of the reference interpreter: a scalar or a tensor shaped like `w`. */
export type RefValue = number | Float64Array;
export type Kind = 'tensor' | 'scalar';

/**
 * What an argument may be: anything, a scalar only (a rate, a bound), or a
 * mixing weight: a scalar that is meant to lie in [0, 1] (`interp`'s `a`).
 * The checker treats a weight as a scalar; mutation draws new constants for
 * it from a prior on (0, 1) (search/mutate.ts), since a weight drawn from
 * N(0, 1), as other constants are, is rarely a decay like 0.9 or 0.999.
 */
export type ArgKind = 'any' | 'scalar' | 'weight';

/** Whether an argument of this kind must be a scalar. */
export const scalarOnly = (k: ArgKind): boolean => k !== 'any';

export interface Infix {
  readonly symbol: string;
  /** Binding power: higher binds tighter. */
  readonly prec: number;
  readonly assoc: 'left' | 'right' | 'none';
}

interface BaseRow {
  readonly name: string;
  readonly args: readonly ArgKind[];
  /** Relative weight of this function when mutation draws a new statement. */
  readonly weight: number;
  readonly infix?: Infix;
  readonly commutative?: boolean;
  readonly doc: string;
  /**
   * Whether the result is known to be >= 0 (or NaN), given which arguments
   * are and the values of literal arguments. The compiler uses it to skip
   * the `abs` of `sqrt` and the logs on values that cannot be negative.
   */
  readonly nonneg?: (argNonneg: readonly boolean[], literals: readonly (number | undefined)[]) => boolean;
}

/** Sign rules for `nonneg`. */
const ALWAYS = () => true;
const ALL = (nn: readonly boolean[]) => nn.every(Boolean);
const ANY = (nn: readonly boolean[]) => nn.some(Boolean);

/** Elementwise: the result is a tensor when any argument is. */
export interface ElementwiseRow extends BaseRow {
  readonly form: 'elementwise';
  readonly f: (...x: number[]) => number;
  readonly tf: (tf: Tfjs, args: Tensor[]) => Tensor;
  /** A cheaper form for arguments known to be >= 0 (`sqrt` without its `abs`). */
  readonly tfNonneg?: (tf: Tfjs, args: Tensor[]) => Tensor;
  /**
   * A form for when some arguments are plain numbers (`k` makes a number a
   * tensor, reusing constants), so scalar arithmetic stays in JavaScript.
   */
  readonly tfMixed?: (tf: Tfjs, args: (Tensor | number)[], k: (v: number) => Tensor) => Tensor;
}

/** A constant: no arguments, a scalar. */
export interface ConstantRow extends BaseRow {
  readonly form: 'constant';
  readonly value: number;
}

/**
 * A reduction: partial sums per tensor, then a finish. Per-tensor reductions
 * finish each tensor's sums; global ones add the sums of every parameter of
 * the model first (and per replica, when replicas are stacked on axis 0).
 */
export interface ReductionRow extends BaseRow {
  readonly form: 'reduction';
  readonly scope: 'tensor' | 'global';
  readonly result: Kind;
  /** Terms to sum over elements: `terms(x_i, y_i, ...)` gives one number per accumulator. */
  readonly terms: (...x: number[]) => number[];
  readonly finish: (acc: number[], args: RefValue[]) => RefValue;
  readonly tfTerms: (tf: Tfjs, args: Tensor[]) => Tensor[];
  readonly tfFinish: (tf: Tfjs, acc: Tensor[], args: Tensor[]) => Tensor;
}

export type FnRow = ElementwiseRow | ConstantRow | ReductionRow;

const LN2 = Math.LN2;
const LN10 = Math.LN10;
/** Guard for the norms in `cosine_sim` and `clip`: a zero vector is left as it is. */
const TINY = 1e-30;

const unary = (
  name: string,
  f: (x: number) => number,
  tf: (tf: Tfjs, x: Tensor) => Tensor,
  doc: string,
  nonneg?: BaseRow['nonneg'],
  tfNonneg?: (tf: Tfjs, x: Tensor) => Tensor,
): ElementwiseRow => ({
  name,
  form: 'elementwise',
  args: ['any'],
  f,
  tf: (t, a) => tf(t, a[0]!),
  weight: 1,
  doc,
  ...(nonneg ? { nonneg } : {}),
  ...(tfNonneg ? { tfNonneg: (t: Tfjs, a: Tensor[]) => tfNonneg(t, a[0]!) } : {}),
});

const binary = (
  name: string,
  f: (x: number, y: number) => number,
  tf: (tf: Tfjs, x: Tensor, y: Tensor) => Tensor,
  doc: string,
  extra: Partial<Pick<BaseRow, 'infix' | 'commutative' | 'weight' | 'nonneg'>> = {},
): ElementwiseRow => ({
  name,
  form: 'elementwise',
  args: ['any', 'any'],
  f,
  tf: (t, a) => tf(t, a[0]!, a[1]!),
  weight: extra.weight ?? 1,
  doc,
  ...(extra.infix ? { infix: extra.infix } : {}),
  ...(extra.commutative ? { commutative: true } : {}),
  ...(extra.nonneg ? { nonneg: extra.nonneg } : {}),
});

const cmp = (name: string, symbol: string, f: (x: number, y: number) => boolean, tf: (t: Tfjs, x: Tensor, y: Tensor) => Tensor, commutative = false) =>
  binary(name, (x, y) => (f(x, y) ? 1 : 0), (t, x, y) => t.cast(tf(t, x, y), 'float32'), `1 where x ${symbol} y, else 0`, {
    infix: { symbol, prec: 1, assoc: 'none' },
    commutative,
    weight: 0.25,
    nonneg: ALWAYS,
  });

const sumsq = (t: Tfjs, x: Tensor) => t.square(x);

/** The L2 norm as a reduction; `norm` and `global_norm` differ only in scope. */
const L2_NORM = {
  result: 'scalar',
  args: ['any'],
  terms: (x: number) => [x * x],
  finish: ([s]: number[]) => Math.sqrt(s!),
  tfTerms: (t: Tfjs, [x]: Tensor[]) => [sumsq(t, x!)],
  tfFinish: (t: Tfjs, [s]: Tensor[]) => t.sqrt(s!),
  weight: 0.5,
} as const;

/**
 * Math.sign as tensors: step(x) - step(-x). tfjs-backend-wasm's Sign runs
 * element by element (8 ns an element, 4.7 ms of a 55 ms Lion step on the
 * standard MLP) where step, neg and sub are vectorised (about 2 ns for the
 * four); it also gives 0 for NaN and for subnormal x, where Math.sign (the
 * interpreter's meaning) gives NaN and +-1, as this does.
 */
function tfSign(t: Tfjs, x: Tensor): Tensor {
  return t.sub(t.step(x), t.step(t.neg(x)));
}

export const FUNCTIONS: readonly FnRow[] = [
  // Elementwise, unary (the Lion paper's appendix H). sqrt and the logs act on |x|.
  unary('abs', Math.abs, (t, x) => t.abs(x), '|x|', ALWAYS),
  unary('sign', Math.sign, (t, x) => tfSign(t, x), 'sign of x (0 at 0)', ALL),
  unary('sqrt', (x) => Math.sqrt(Math.abs(x)), (t, x) => t.sqrt(t.abs(x)), 'sqrt(|x|)', ALWAYS, (t, x) => t.sqrt(x)),
  unary('square', (x) => x * x, (t, x) => t.square(x), 'x^2', ALWAYS),
  unary('cube', (x) => x * x * x, (t, x) => t.mul(t.square(x), x), 'x^3', ALL),
  unary('cbrt', Math.cbrt, (t, x) => t.mul(tfSign(t, x), t.pow(t.abs(x), 1 / 3)), 'cube root', ALL),
  unary('exp', Math.exp, (t, x) => t.exp(x), 'e^x', ALWAYS),
  unary('exp2', (x) => Math.pow(2, x), (t, x) => t.exp(t.mul(x, LN2)), '2^x', ALWAYS),
  unary('exp10', (x) => Math.pow(10, x), (t, x) => t.exp(t.mul(x, LN10)), '10^x', ALWAYS),
  unary('expm1', Math.expm1, (t, x) => t.expm1(x), 'e^x - 1', ALL),
  unary('log', (x) => Math.log(Math.abs(x)), (t, x) => t.log(t.abs(x)), 'ln|x|', undefined, (t, x) => t.log(x)),
  unary('log2', (x) => Math.log2(Math.abs(x)), (t, x) => t.div(t.log(t.abs(x)), LN2), 'log2|x|', undefined, (t, x) => t.div(t.log(x), LN2)),
  unary('log10', (x) => Math.log10(Math.abs(x)), (t, x) => t.div(t.log(t.abs(x)), LN10), 'log10|x|', undefined, (t, x) => t.div(t.log(x), LN10)),
  unary('log1p', (x) => Math.log(Math.abs(1 + x)), (t, x) => t.log(t.abs(t.add(x, 1))), 'ln|1 + x|'),
  unary('sin', Math.sin, (t, x) => t.sin(x), 'sine'),
  unary('cos', Math.cos, (t, x) => t.cos(x), 'cosine'),
  unary('tan', Math.tan, (t, x) => t.tan(x), 'tangent'),
  unary('arcsin', Math.asin, (t, x) => t.asin(x), 'inverse sine (NaN outside [-1, 1])', ALL),
  unary('arccos', Math.acos, (t, x) => t.acos(x), 'inverse cosine (NaN outside [-1, 1])', ALWAYS),
  unary('arctan', Math.atan, (t, x) => t.atan(x), 'inverse tangent', ALL),
  unary('sinh', Math.sinh, (t, x) => t.sinh(x), 'hyperbolic sine', ALL),
  unary('cosh', Math.cosh, (t, x) => t.cosh(x), 'hyperbolic cosine', ALWAYS),
  unary('tanh', Math.tanh, (t, x) => t.tanh(x), 'hyperbolic tangent', ALL),
  unary('arcsinh', Math.asinh, (t, x) => t.asinh(x), 'inverse hyperbolic sine', ALL),
  unary('arccosh', Math.acosh, (t, x) => t.acosh(x), 'inverse hyperbolic cosine (NaN below 1)', ALWAYS),
  unary('arctanh', Math.atanh, (t, x) => t.atanh(x), 'inverse hyperbolic tangent', ALL),
  unary('reciprocal', (x) => 1 / x, (t, x) => t.reciprocal(x), '1 / x', ALL),
  unary('negative', (x) => -x, (t, x) => t.neg(x), '-x'),

  // Elementwise, binary.
  binary('add', (x, y) => x + y, (t, x, y) => t.add(x, y), 'x + y', { infix: { symbol: '+', prec: 2, assoc: 'left' }, commutative: true, weight: 2, nonneg: ALL }),
  binary('sub', (x, y) => x - y, (t, x, y) => t.sub(x, y), 'x - y', { infix: { symbol: '-', prec: 2, assoc: 'left' }, weight: 2 }),
  binary('mul', (x, y) => x * y, (t, x, y) => t.mul(x, y), 'x * y', { infix: { symbol: '*', prec: 3, assoc: 'left' }, commutative: true, weight: 2, nonneg: ALL }),
  binary('div', (x, y) => x / y, (t, x, y) => t.div(x, y), 'x / y', { infix: { symbol: '/', prec: 3, assoc: 'left' }, weight: 2, nonneg: ALL }),
  binary('power', Math.pow, (t, x, y) => t.pow(x, y), 'x ** y', { infix: { symbol: '**', prec: 5, assoc: 'right' }, nonneg: (nn) => nn[0]! }),
  binary('maximum', Math.max, (t, x, y) => t.maximum(x, y), 'larger of x and y', { commutative: true, nonneg: ANY }),
  binary('minimum', Math.min, (t, x, y) => t.minimum(x, y), 'smaller of x and y', { commutative: true, nonneg: ALL }),

  // Comparisons, beyond the paper: they give 1 or 0, for `where`.
  cmp('less', '<', (x, y) => x < y, (t, x, y) => t.less(x, y)),
  cmp('greater', '>', (x, y) => x > y, (t, x, y) => t.greater(x, y)),
  cmp('less_equal', '<=', (x, y) => x <= y, (t, x, y) => t.lessEqual(x, y)),
  cmp('greater_equal', '>=', (x, y) => x >= y, (t, x, y) => t.greaterEqual(x, y)),
  cmp('equal', '==', (x, y) => x === y, (t, x, y) => t.equal(x, y), true),
  cmp('not_equal', '!=', (x, y) => x !== y, (t, x, y) => t.notEqual(x, y), true),

  {
    name: 'where',
    form: 'elementwise',
    args: ['any', 'any', 'any'],
    f: (c, a, b) => (c !== 0 ? a : b),
    tf: (t, [c, a, b]) => {
      const shape = broadcastShape(c!.shape, broadcastShape(a!.shape, b!.shape));
      const fit = (x: Tensor) => (sameShape(x.shape, shape) ? x : t.broadcastTo(x, shape));
      return t.where(fit(t.notEqual(c!, 0)), fit(a!), fit(b!));
    },
    weight: 0.5,
    doc: 'a where c is non-zero, else b',
    nonneg: (nn) => nn[1]! && nn[2]!,
  },
  {
    name: 'clamp',
    form: 'elementwise',
    args: ['any', 'any', 'any'],
    f: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
    tf: (t, [x, lo, hi]) => t.minimum(t.maximum(x!, lo!), hi!),
    weight: 0.5,
    doc: 'x limited to [lo, hi], elementwise',
    nonneg: (nn) => nn[1]! && nn[2]!,
  },
  {
    name: 'interp',
    form: 'elementwise',
    args: ['any', 'any', 'weight'],
    f: (x, y, a) => (1 - a) * x + a * y,
    // x + a (y - x) would be one op cheaper but rounds differently from the
    // published formula; the seeds' reference trajectories use this form.
    tf: (t, [x, y, a]) => t.add(t.mul(t.sub(1, a!), x!), t.mul(a!, y!)),
    // A number weight: 1 - a is computed here, not as a kernel.
    tfMixed: (t, [x, y, a], k) => {
      const T = (v: Tensor | number) => (typeof v === 'number' ? k(v) : v);
      const w1 = typeof a === 'number' ? k(1 - a) : t.sub(1, a!);
      return t.add(t.mul(w1, T(x!)), t.mul(T(a!), T(y!)));
    },
    // The most frequent call of a new statement: every rule of the seed
    // library keeps an exponential average, and at weight 2 (as add or mul)
    // an average of the gradient was one child of SGD in 700.
    weight: 6,
    doc: '(1 - a) x + a y, with a scalar weight a',
    nonneg: (nn, lit) => nn[0]! && nn[1]! && lit[2] !== undefined && lit[2] >= 0 && lit[2] <= 1,
  },

  // Constants.
  { name: 'get_pi', form: 'constant', args: [], value: Math.PI, weight: 0.1, doc: 'pi' },
  { name: 'get_e', form: 'constant', args: [], value: Math.E, weight: 0.1, doc: 'e' },
  { name: 'get_eps', form: 'constant', args: [], value: 1e-8, weight: 0.1, doc: '1e-8' },

  // Reductions.
  {
    name: 'norm',
    form: 'reduction',
    scope: 'tensor',
    ...L2_NORM,
    doc: 'L2 norm of this tensor',
    nonneg: ALWAYS,
  },
  {
    name: 'dot',
    form: 'reduction',
    scope: 'tensor',
    result: 'scalar',
    args: ['any', 'any'],
    commutative: true,
    terms: (x, y) => [x * y],
    finish: ([s]) => s!,
    tfTerms: (t, [x, y]) => [t.mul(x!, y!)],
    tfFinish: (_t, [s]) => s!,
    weight: 0.5,
    doc: 'dot product within this tensor',
  },
  {
    name: 'cosine_sim',
    form: 'reduction',
    scope: 'tensor',
    result: 'scalar',
    args: ['any', 'any'],
    commutative: true,
    terms: (x, y) => [x * y, x * x, y * y],
    finish: ([xy, xx, yy]) => xy! / Math.max(Math.sqrt(xx!) * Math.sqrt(yy!), TINY),
    tfTerms: (t, [x, y]) => [t.mul(x!, y!), sumsq(t, x!), sumsq(t, y!)],
    tfFinish: (t, [xy, xx, yy]) => t.div(xy!, t.maximum(t.mul(t.sqrt(xx!), t.sqrt(yy!)), TINY)),
    weight: 0.5,
    doc: 'cosine similarity within this tensor',
  },
  {
    name: 'global_norm',
    form: 'reduction',
    scope: 'global',
    ...L2_NORM,
    doc: 'L2 norm over every parameter of the model',
    nonneg: ALWAYS,
  },
  {
    name: 'clip',
    form: 'reduction',
    scope: 'global',
    result: 'tensor',
    args: ['any', 'scalar'],
    terms: (x) => [x * x],
    finish: ([s], [x, c]) => {
      const k = Math.min(1, (c as number) / Math.max(Math.sqrt(s!), TINY));
      return typeof x === 'number' ? x * k : x!.map((v) => v * k);
    },
    tfTerms: (t, [x]) => [sumsq(t, x!)],
    tfFinish: (t, [s], [x, c]) => t.mul(x!, t.minimum(1, t.div(c!, t.maximum(t.sqrt(s!), TINY)))),
    weight: 0.5,
    doc: 'x scaled so that its global norm is at most c',
    nonneg: (nn) => nn[0]!,
  },
  // Last, and not drawn by mutation: it exists so that programs can reproduce tfjs's
  // float32 scalars exactly (tf.train's running powers of beta).
  { ...unary('float32', Math.fround, (_, x) => x, 'x rounded to single precision (tensors already are)', ALL), weight: 0 },
];

/**
 * A reduction whose arguments are all numbers, for every parameter at once.
 *
 * A number in a program holds one value per parameter of the model (a literal
 * the same value for each), so a global reduction adds one term per
 * parameter: over P parameters `global_norm(c)` is sqrt(P)·|c|, and
 * `global_norm(norm(g))` is the global norm of g. The interpreter, the
 * compiler and the simplifier all take this meaning from here.
 */
export function reduceNumbers(row: ReductionRow, perParam: readonly (readonly number[])[]): number[] {
  const finish = (acc: number[], args: readonly number[]) => row.finish(acc, args as number[]) as number;
  if (row.scope === 'tensor') return perParam.map((args) => finish(row.terms(...args), args));
  const sums = perParam.map((args) => row.terms(...args));
  const acc = sums.length === 0 ? [] : sums.reduce((a, b) => a.map((v, i) => v + b[i]!));
  return perParam.map((args) => finish(acc, args));
}

/**
 * Whether a call on literals is a literal: its value must not depend on the
 * model. A global reduction of numbers depends on how many parameters there
 * are (see `reduceNumbers`), so it does not fold.
 */
export function foldsOnLiterals(row: FnRow): boolean {
  return row.form !== 'reduction' || row.scope === 'tensor';
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

const BY_NAME = new Map(FUNCTIONS.map((r) => [r.name, r]));
const BY_SYMBOL = new Map(FUNCTIONS.filter((r) => r.infix).map((r) => [r.infix!.symbol, r]));

export function fn(name: string): FnRow | undefined {
  return BY_NAME.get(name);
}

export function fnBySymbol(symbol: string): FnRow | undefined {
  return BY_SYMBOL.get(symbol);
}

/** Names the paper's listings use for functions under another name here. */
export const FUNCTION_ALIASES: Readonly<Record<string, string>> = {
  interpolate: 'interp',
  clip_by_global_norm: 'clip',
  pow: 'power',
  max: 'maximum',
  min: 'minimum',
  neg: 'negative',
};
