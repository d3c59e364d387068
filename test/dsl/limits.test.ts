/**
 * Inputs far beyond any real program: each is either handled or rejected as a
 * DslError at a position inside the input, never a stack overflow.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../dsl/check.js';
import { DslError } from '../../dsl/errors.js';
import { MAX_EXPRESSION_DEPTH, parse } from '../../dsl/parse.js';
import { simplify } from '../../dsl/simplify.js';
import { print } from '../../dsl/print.js';

const HEAD = 'def train(w, g, lr):\n';

function rejection(source: string): DslError {
  try {
    check(parse(source));
  } catch (e) {
    expect(e).toBeInstanceOf(DslError);
    return e as DslError;
  }
  throw new Error('accepted');
}

describe('size and depth limits', () => {
  it('2,000 levels of brackets: a DslError at the bracket beyond the limit', () => {
    const e = rejection(`${HEAD}  u = ${'('.repeat(2000)}g${')'.repeat(2000)}\n  return u * lr\n`);
    expect(e.message).toMatch(/nested more than 256 levels/);
    expect(e.line).toBe(2);
    expect(e.column).toBe(6 + MAX_EXPRESSION_DEPTH + 1);
  });

  it('one line of 250,000 `g +` terms: a DslError inside the line', () => {
    const line = `  u = ${'g + '.repeat(250_000)}g`;
    const e = rejection(`${HEAD}${line}\n  return u * lr\n`);
    expect(e.message).toMatch(/nested more than/);
    expect(e.line).toBe(2);
    expect(e.column).toBeGreaterThan(0);
    expect(e.column).toBeLessThanOrEqual(line.length);
  });

  it('long chains of signs and powers are bounded too', () => {
    expect(rejection(`${HEAD}  return ${'-'.repeat(5000)}g * lr\n`).message).toMatch(/nested more than/);
    expect(rejection(`${HEAD}  return g ${'** g '.repeat(5000)}* lr\n`).message).toMatch(/nested more than/);
  });

  it('an expression at the limit is accepted', () => {
    const d = MAX_EXPRESSION_DEPTH - 2; // the return's `* lr` and the name itself take two levels
    expect(() => check(parse(`${HEAD}  return ${'('.repeat(d)}g${')'.repeat(d)} * lr\n`))).not.toThrow();
  });

  it('simplify handles a 5,000-statement chain', () => {
    const body = Array.from({ length: 4999 }, (_, i) => `  a${i + 1} = a${i} + g\n`).join('');
    const p = parse(`${HEAD}  a0 = g\n${body}  return a4999 * lr\n`);
    check(p);
    const s = simplify(p);
    expect(s.body.length).toBe(5000);
    check(parse(print(s)));
  });
});
