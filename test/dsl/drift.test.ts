import { describe, expect, it } from 'vitest';
import { constantDrift } from '../../dsl/drift.js';
import { parse } from '../../dsl/parse.js';
import { seedNames, seedProgram } from '../../seeds/index.js';

describe('constant drift', () => {
  it('no seed optimizer drifts (weight decay is fine)', () => {
    for (const name of seedNames) expect(constantDrift(seedProgram(name)), name).toBeNull();
  });

  it("flags the issue's exploit: a slot that is -1 at step 1 because it starts at 0", () => {
    const p = parse('def train(w, g, s1, s2, lr):\n  s2 = expm1(log10(s1))\n  return g * lr + s2, s1, s2\n');
    expect(constantDrift(p)).toMatch(/^constant drift: with zero gradients and zero weights, step 1 moves the weights by up to 1\.00 /);
  });

  it('flags a fixed push, a pull towards a fixed point, and a drift that starts later', () => {
    expect(constantDrift(parse('def train(w, g, lr):\n  return (g + 0.5) * lr\n'))).toMatch(/step 1/);
    expect(constantDrift(parse('def train(w, g, lr):\n  return (g + w - 1) * lr\n'))).toMatch(/step 1/);
    expect(constantDrift(parse('def train(w, g, s, lr, step):\n  s = s + 1\n  u = g * lr + maximum(s - 2, 0) * lr\n  return u, s\n'))).toMatch(/step 3/);
  });

  it('ignores numerical dust: an epsilon beside the gradient', () => {
    expect(constantDrift(parse('def train(w, g, lr):\n  return (g + get_eps()) * lr\n'))).toBeNull();
  });
});
