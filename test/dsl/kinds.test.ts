import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../dsl/check.js';
import { exprKind, kindsBefore, paramKind } from '../../dsl/kinds.js';
import { parse } from '../../dsl/parse.js';
import { flatten } from '../../dsl/flatten.js';
import { seedNames, seedProgram } from '../../seeds/index.js';
import { assertProperty } from '../property.js';
import { arbProgram } from './programs.js';

const kinds = new Map([
  ['g', 'tensor'],
  ['lr', 'scalar'],
] as const);
const kindOf = (text: string) => {
  const p = parse(`def train(w, g, lr):\n  u = ${text}\n  return u * g\n`);
  return exprKind(p.body[0]!.expr, (n) => kinds.get(n as 'g' | 'lr'));
};

describe('kinds', () => {
  it.each([
    ['g + 1', 'tensor'],
    ['lr * 2', 'scalar'],
    ['interp(g, 1, lr)', 'tensor'],
    ['get_pi()', 'scalar'],
    ['norm(g)', 'scalar'],
    ['dot(g, g)', 'scalar'],
    ['clip(g, lr)', 'tensor'],
    // A reduction of a scalar is a scalar, whatever the row's result.
    ['clip(lr, 1)', 'scalar'],
    ['global_norm(-0.001)', 'scalar'],
    ['sqrt(norm(g)) + lr', 'scalar'],
  ])('%s is a %s', (text, kind) => {
    expect(kindOf(text)).toBe(kind);
  });

  it('gives parameters the kinds of their roles', () => {
    expect(['w', 'weights', 'g', 'grad', 'lr', 'step', 'm'].map(paramKind)).toEqual(['tensor', 'tensor', 'tensor', 'tensor', 'scalar', 'scalar', 'tensor']);
  });

  it('agrees with the checker: the kinds in scope after the body are the kinds the checker found', () => {
    for (const name of seedNames) {
      const p = flatten(seedProgram(name));
      expect(kindsBefore(p, p.body.length), name).toEqual(check(p).kinds);
    }
    assertProperty(
      'kindsBefore agrees with check',
      fc.property(arbProgram(), (p) => {
        expect(kindsBefore(p, p.body.length)).toEqual(check(p).kinds);
      }),
      { numRuns: 300 },
    );
  });
});
