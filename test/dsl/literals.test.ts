import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatNumber, literalAt, literalValue, roundConstant } from '../../dsl/literals.js';
import { parse } from '../../dsl/parse.js';
import { print } from '../../dsl/print.js';
import { assertProperty } from '../property.js';

describe('number literals', () => {
  it.each([
    ['1', '1'],
    ['0.9)', '0.9'],
    ['.5 ', '.5'],
    ['1. ', '1.'],
    ['1e-8,', '1e-8'],
    ['2E+3', '2E+3'],
    ['e5', undefined],
    ['.e5', undefined],
    ['-1', undefined],
  ])('%j starts with the literal %j', (text, literal) => {
    expect(literalAt(text, 0)).toBe(literal);
  });

  it('prints every finite double so that it reads back the same, sign of zero included', () => {
    assertProperty(
      'number literals round-trip',
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = print(parse(`c = ${formatNumber(x)}\n\ndef train(w, g, lr):\n  return g * c\n`));
        expect(Object.is(parse(text).hparams[0]!.value, x)).toBe(true);
        if (x >= 0 && !Object.is(x, -0)) expect(literalValue(literalAt(formatNumber(x), 0)!)).toBe(x);
      }),
      { numRuns: 500 },
    );
  });

  it('rounds constants that mutation makes to four significant digits', () => {
    expect([roundConstant(1.23456), roundConstant(-0.000123456), roundConstant(0), roundConstant(Infinity)]).toEqual([1.235, -0.0001235, 0, Infinity]);
  });
});
