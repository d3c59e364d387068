/**
 * Every seed against a trusted reference: PyTorch's torch.optim or a float64
 * implementation of the published formula (test/fixtures/reference/), for 25
 * steps on an ill-conditioned quadratic and on Rosenbrock. The compiled tfjs
 * optimizer (float32) must stay within 1e-4 relative of the reference at every
 * step; the float64 interpreter within 1e-8.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { interpreter } from '../../dsl/interpret.js';
import { SEEDS, seedProgram } from '../../seeds/index.js';
import { resolveHparams } from '../../src/optimizer.js';
import { optimizers } from '../../src/optimizers.js';

interface ParamSpec {
  shape: number[];
  init: number[];
  target?: number[];
  curvature?: number[];
}
interface Case {
  seed: string;
  problem: 'quadratic' | 'rosenbrock';
  reference: string;
  hparams: Record<string, number>;
  trajectory: Record<string, number[]>[];
}
interface Fixture {
  steps: number;
  problems: Record<string, { params: Record<string, ParamSpec> }>;
  cases: Case[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/reference/trajectories.json', import.meta.url), 'utf8')) as Fixture;

/** The closed-form gradient, in float64, at the given parameters (the script's `gradients`). */
function gradient(problem: string, name: string, x: ArrayLike<number>): Float64Array {
  const spec = fixture.problems[problem]!.params[name]!;
  if (problem === 'quadratic') return Float64Array.from(x, (v, i) => spec.curvature![i]! * (v - spec.target![i]!));
  const [a, b] = [x[0]!, x[1]!];
  return Float64Array.of(-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a));
}

/** Worst relative error of any element, over a snapshot. */
function relError(got: Record<string, ArrayLike<number>>, want: Record<string, number[]>): number {
  let worst = 0;
  for (const [k, ref] of Object.entries(want)) {
    const g = got[k]!;
    ref.forEach((r, i) => (worst = Math.max(worst, Math.abs(g[i]! - r) / Math.abs(r))));
  }
  return worst;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('reference fixture', () => {
  it.each(SEEDS.map((s) => s.name))('covers %s on both problems', (name) => {
    expect(fixture.cases.filter((c) => c.seed === name).map((c) => c.problem).sort()).toEqual(['quadratic', 'rosenbrock']);
  });

  it('has 25 steps per case and nothing unknown', () => {
    expect(fixture.steps).toBe(25);
    for (const c of fixture.cases) {
      expect(c.trajectory).toHaveLength(25);
      expect(SEEDS.some((s) => s.name === c.seed)).toBe(true);
    }
  });
});

const label = (c: Case) => `${c.seed} on ${c.problem}`;

describe('float64 interpreter', () => {
  it.each(fixture.cases.map((c) => [label(c), c] as const))('%s matches the reference within 1e-8', (_, c) => {
    const p = seedProgram(c.seed);
    const r = resolveHparams(p, c.hparams, c.seed);
    const run = interpreter(p, r.program);
    const names = Object.keys(fixture.problems[c.problem]!.params);
    const ws = names.map((n) => Float64Array.from(fixture.problems[c.problem]!.params[n]!.init));
    let state = run.init(ws);
    let worst = 0;
    for (const want of c.trajectory) {
      const gs = names.map((n, i) => gradient(c.problem, n, ws[i]!));
      const out = run.step(ws, gs, state, r.learningRate);
      state = out.state;
      ws.forEach((w, i) => w.forEach((v, j) => (w[j] = v - out.updates[i]![j]!)));
      worst = Math.max(worst, relError(Object.fromEntries(names.map((n, i) => [n, ws[i]!])), want));
    }
    expect(worst).toBeLessThan(1e-8);
  });
});

describe('compiled tf.Optimizer (float32)', () => {
  it.each(fixture.cases.map((c) => [label(c), c] as const))('%s matches the reference within 1e-4', (_, c) => {
    const spec = fixture.problems[c.problem]!.params;
    const names = Object.keys(spec);
    const vars = names.map((n) => tf.variable(tf.tensor(spec[n]!.init, spec[n]!.shape), true, `${c.seed}_${c.problem}_${n}`));
    const opt = optimizers[c.seed as keyof typeof optimizers](c.hparams);
    let worst = 0;
    try {
      for (const want of c.trajectory) {
        const grads = tf.tidy(() => vars.map((v, i) => tf.tensor(Float32Array.from(gradient(c.problem, names[i]!, v.dataSync())), v.shape)));
        opt.applyGradients(names.map((_, i) => ({ name: vars[i]!.name, tensor: grads[i]! })));
        tf.dispose(grads);
        worst = Math.max(worst, relError(Object.fromEntries(names.map((n, i) => [n, vars[i]!.dataSync()])), want));
      }
    } finally {
      opt.dispose();
      tf.dispose(vars);
    }
    expect(worst).toBeLessThan(1e-4);
  });
});
