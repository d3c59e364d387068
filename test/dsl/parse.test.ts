import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stripPositions } from '../../dsl/ast.js';
import { DslError } from '../../dsl/errors.js';
import { parse } from '../../dsl/parse.js';
import { print } from '../../dsl/print.js';
import { ADAMW, LION, arbProgram } from './programs.js';
import { assertProperty } from '../property.js';

describe('parse and print', () => {
  it('reads the AdamW start program of the Lion search', () => {
    const p = parse(ADAMW);
    expect(p.params.map((q) => q.name)).toEqual(['w', 'g', 'm', 'v', 'lr']);
    expect(p.body).toHaveLength(9);
    expect(p.header).toEqual(['AdamW, as the Lion paper\'s search starts from it']);
  });

  it('reads Unicode identifiers, as the simplified Lion listing uses', () => {
    const p = parse(LION);
    expect(p.hparams.map((h) => [h.name, h.value])).toEqual([
      ['β1', 0.9],
      ['β2', 0.99],
      ['λ', 0.01],
    ]);
  });

  it('prints canonically: parse(print(p)) equals p', () => {
    for (const src of [ADAMW, LION]) {
      const p = parse(src);
      expect(stripPositions(parse(print(p)))).toEqual(stripPositions(p));
      expect(print(parse(print(p)))).toBe(print(p));
    }
  });

  it('keeps Python precedence: unary minus binds looser than **', () => {
    const p = parse('def train(w, g, lr):\n  u = -g ** 2 + (-2) ** g - -3 * -(g + w) / lr ** 2 ** 3\n  return u\n');
    const again = parse(print(p));
    expect(stripPositions(again)).toEqual(stripPositions(p));
    expect(print(p)).toContain('u = -g ** 2 + (-2) ** g - -3 * -(g + w) / lr ** 2 ** 3');
  });

  it('accepts the aliases of the paper code (interpolate, clip_by_global_norm)', () => {
    const p = parse('def train(w, g, m, lr):\n  m = interpolate(g, m, 0.9)\n  u = clip_by_global_norm(m, 1.0) * lr\n  return u, m\n');
    expect(print(p)).toContain('interp(g, m, 0.9)');
    expect(print(p)).toContain('clip(m, 1)');
  });

  it('round-trips random generated programs', () => {
    assertProperty(
      'print then parse round-trips',
      fc.property(arbProgram(), (p) => {
        expect(stripPositions(parse(print(p)))).toEqual(stripPositions(p));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['def train(w, g, lr):\n  u = foo(g)\n  return u\n', 2, 7, "unknown function 'foo'"],
    ['def train(w, g, lr):\n  u = g +\n  return u\n', 2, 10, 'expected an expression, found end of line'],
    ['def train(w, g, lr):\n  u = interp(g, w)\n  return u\n', 2, 7, 'interp takes 3 arguments, got 2'],
    ['def train(w, g, lr):\n  u = g $ 2\n  return u\n', 2, 9, "unexpected character '$'"],
    ['def train(w, g, lr):\n  u = g\n', 1, 1, "'train' has no 'return'"],
    ['momentum = x\ndef train(w, g, lr):\n  return g\n', 1, 12, 'expected a number'],
    ['def train(w, g, g, lr):\n  return g\n', 1, 17, "duplicate parameter 'g'"],
    ['def train(w, g, lr):\n  u = g\n   v = g\n  return u\n', 3, 1, 'inconsistent indentation'],
    ['def train(w, g, lr):\n  return g\n  u = g\n', 3, 3, "statement after 'return'"],
  ])('reports %j at its line and column', (src, line, column, message) => {
    try {
      parse(src, { file: 'x.opt' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DslError);
      const d = e as DslError;
      expect([d.line, d.column]).toEqual([line, column]);
      expect(d.message).toContain(message);
      expect(d.toString()).toMatch(new RegExp(`^x\\.opt:${line}:${column}: `));
    }
  });
});

describe('bad input never crashes the parser', () => {
  const onlyDslErrors = (src: string) => {
    try {
      parse(src);
    } catch (e) {
      if (!(e instanceof DslError)) throw e;
      const lines = src.split('\n');
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.line).toBeLessThanOrEqual(Math.max(1, lines.length));
      expect(e.column).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeLessThanOrEqual((lines[e.line - 1]?.length ?? 0) + 1);
    }
  };

  it('random byte strings', () => {
    assertProperty('random bytes give only DslErrors', fc.property(fc.string({ unit: 'binary', maxLength: 200 }), onlyDslErrors), { numRuns: 500 });
  });

  it('random token soups', () => {
    const token = fc.constantFrom('def', 'train', '(', ')', ':', ',', '=', 'return', '\n', '\n  ', 'g', 'w', 'lr', 'm', '1.5', '-', '**', '*', '+', 'interp', 'sqrt', '#', 'β1', '1e-8', '.', 'e');
    assertProperty('token soups give only DslErrors', fc.property(fc.array(token, { maxLength: 60 }), (ts) => onlyDslErrors(ts.join(' '))), { numRuns: 500 });
  });

  it('every truncation of a valid program', () => {
    for (let i = 0; i <= ADAMW.length; i++) onlyDslErrors(ADAMW.slice(0, i));
    for (let i = 0; i <= LION.length; i++) onlyDslErrors(LION.slice(0, i));
  });
});
