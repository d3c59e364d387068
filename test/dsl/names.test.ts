import { describe, expect, it } from 'vitest';
import { freshName, freshNamer, usedNames } from '../../dsl/names.js';
import { parse } from '../../dsl/parse.js';
import { withStateSlots } from '../../dsl/state-slots.js';

const p = parse('v2 = 0.5\n\ndef train(w, g, v3, lr):\n  v1 = g * v2\n  return v1 * lr, v3\n');

describe('fresh names', () => {
  it('skips every name the program defines or reads', () => {
    expect([...usedNames(p)].sort()).toEqual(['g', 'lr', 'v1', 'v2', 'v3', 'w']);
    expect(freshName(p)).toBe('v4');
    expect(freshName(p, 's')).toBe('s1');
  });

  it('gives each name once', () => {
    const fresh = freshNamer(new Set(['t2']), 't');
    expect([fresh(), fresh(), fresh()]).toEqual(['t1', 't3', 't4']);
  });

  it('adds missing state slots under fresh names, returned unchanged', () => {
    const q = parse('def train(w, g, s1, lr):\n  s2 = g * 2\n  return s2 * lr, s1\n');
    const r = withStateSlots(q, 3);
    expect(r.params.map((x) => x.name)).toEqual(['w', 'g', 's1', 'lr', 's3', 's4']);
    expect(r.returns.slice(2)).toEqual([
      { type: 'name', name: 's3' },
      { type: 'name', name: 's4' },
    ]);
    expect(withStateSlots(q, 1)).toBe(q);
  });
});
