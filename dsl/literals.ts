/**
 * Number literals: how constants are read from program text, written back,
 * and rounded when mutation makes them. A literal has no sign: `-2` is the
 * unary minus applied to `2`, which the parser folds into the constant -2.
 */

/** Digits with an optional point and exponent: `1`, `0.9`, `1.`, `.5`, `1e-8`. */
const LITERAL = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;

/** The literal that starts at `text[at]`, if one does. */
export function literalAt(text: string, at: number): string | undefined {
  return LITERAL.exec(text.slice(at))?.[0];
}

/** The value of a literal that `literalAt` found. */
export function literalValue(literal: string): number {
  return Number(literal);
}

/** Shortest text that reads back as the same double (-0 keeps its sign). */
export function formatNumber(v: number): string {
  if (Object.is(v, -0)) return '-0.0';
  return String(v);
}

/** Significant digits kept in constants that mutation makes: the source stays readable. */
const MUTATED_DIGITS = 4;

/** `x` to MUTATED_DIGITS significant digits (0 and non-finite values as they are). */
export function roundConstant(x: number): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(MUTATED_DIGITS)) : x;
}
