import { describe, expect, it } from 'vitest';
import { check } from '../../dsl/check.js';
import { DslError } from '../../dsl/errors.js';
import { parse } from '../../dsl/parse.js';

const body = (lines: string, params = 'w, g, m, lr') => `def train(${params}):\n${lines
  .trim()
  .split('\n')
  .map((l) => '  ' + l.trim())
  .join('\n')}\n`;

describe('check', () => {
  it.each([
    [body('u = h * lr\nreturn u, m'), 2, 7, "undefined name 'h'"],
    [body('u = interp(g, m, w)\nreturn u, m'), 2, 20, 'argument 3 of interp must be a scalar, got a tensor'],
    [body('u = clip(g, m)\nreturn u, m'), 2, 15, 'argument 2 of clip must be a scalar'],
    [body('u = g * lr\nreturn u'), 3, 3, "must return 2 values (update, m), got 1"],
    [body('u = w * lr\nreturn u, m'), 3, 10, "the update does not depend on the gradient 'g'"],
    [body('m = m + w\nu = m * lr\nreturn u, m'), 4, 10, "the update does not depend on the gradient 'g'"],
    [body('u = g * lr\nreturn u, m', 'w, m, lr'), 1, 11, "needs the gradient parameter 'g'"],
    [body('u = g * lr\nreturn u, m', 'w, g, m, lr, weight'), 1, 24, "'weight' and 'w' are both the weight"],
    ['momentum = 0.9\n' + body('momentum = g * lr\nreturn momentum, m'), 3, 3, "cannot assign to hyperparameter 'momentum'"],
  ])('rejects %j', (src, line, column, msg) => {
    const p = parse(src, { file: 'p.opt' });
    try {
      check(p, { file: 'p.opt' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DslError);
      expect((e as DslError).message).toContain(msg);
      expect([(e as DslError).line, (e as DslError).column]).toEqual([line, column]);
    }
  });

  it('accepts an update that depends on g only through state from the previous step', () => {
    const p = parse(body('u = m * lr\nm = m * 0.9 + g\nreturn u, m'));
    expect(() => check(p)).not.toThrow();
  });

  it('infers kinds: reductions make scalars, scalars broadcast', () => {
    const info = check(parse(body('n = norm(g)\nu = g / n\ns = n * lr\nreturn u * s, m')));
    expect(info.kinds.get('n')).toBe('scalar');
    expect(info.kinds.get('u')).toBe('tensor');
    expect(info.returnKinds).toEqual(['tensor', 'tensor']);
  });
});
