/**
 * newton and hessianFree as tf.Optimizers: what they converge to, the tfjs
 * contract (minimize with returnCost and a var list, iterations,
 * getWeights/setWeights, getConfig/fromConfig through tf.serialization), no
 * tensor leaked per step, the evaluation count, and clear errors where they
 * cannot work (applyGradients, model.fit with Gauss-Newton, too many
 * parameters for newton, bad hyperparameters).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { optimizers } from '../../../src/all-optimizers.js';
import { HessianFreeOptimizer } from '../../../src/second-order/hessian-free.js';
import { NewtonOptimizer } from '../../../src/second-order/newton.js';
import { splitLoss } from '../../../src/second-order/split-loss.js';
import { COST } from '../../../src/second-order/curvature.js';
import { solveDamped } from '../../../src/second-order/dense-solve.js';
import { builtinTask } from '../../../src/tasks/registry.js';
import type { ArrayProblem } from '../../../src/tasks/types.js';

let made: { dispose(): void }[] = [];
const own = <T extends { dispose(): void }>(x: T): T => (made.push(x), x);
let counter = 0;
const variable = (t: tf.Tensor) => own(tf.variable(t, true, `second_order_test_${++counter}`));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  for (const x of made) x.dispose();
  made = [];
});

const problems = JSON.parse(readFileSync(new URL('../../fixtures/second-order/problems.json', import.meta.url), 'utf8')) as {
  quadratic: { H: number[][]; c: number[]; dim: number };
};
const quadratic = builtinTask('quadratic')!;
const quadraticLoss = (w: tf.Variable) => () => (quadratic.kind === 'array' ? (quadratic.setup(0) as Required<ArrayProblem>) : null)!.tfLoss(tf, [w]);

/** A tiny regression net, as a split loss and as plain variables. */
function tinyNet() {
  const x = own(tf.randomNormal([16, 3], 0, 1, 'float32', 1));
  const y = own(tf.randomNormal([16, 2], 0, 1, 'float32', 2));
  const w1 = variable(tf.randomNormal([3, 6], 0, 0.5, 'float32', 3));
  const b1 = variable(tf.zeros([6]));
  const w2 = variable(tf.randomNormal([6, 2], 0, 0.5, 'float32', 4));
  const vars = [w1, b1, w2];
  const split = splitLoss(() => tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), 'mse', y);
  return { vars, split, loss: () => tf.tidy(() => split().dataSync()[0]!) };
}

describe('newton', () => {
  it('reaches the minimum of a quadratic in one step (learningRate 1, damping 0)', () => {
    const w = variable(tf.zeros([problems.quadratic.dim]));
    const n = problems.quadratic.dim;
    const wStar = solveDamped(Float64Array.from(problems.quadratic.H.flat()), n, Float64Array.from(problems.quadratic.c), 0).d;
    const opt = own(optimizers.newton());
    expect(opt).toBeInstanceOf(tf.Optimizer);
    const cost = opt.minimize(quadraticLoss(w), true, [w]);
    expect(cost).not.toBeNull();
    cost!.dispose();
    const got = w.dataSync();
    // float32 products on a condition-1000 problem: the float64 minimiser to about 1e-3.
    wStar.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(2e-3 * Math.max(1, Math.abs(v))));
    expect(opt.iterations).toBe(1);
    // One gradient and n Hessian-vector products at their nominal cost.
    expect(opt.gradientEquivalents).toBe(1 + COST.hessianVector * n);
    expect(opt.cost.counts).toEqual({ loss: 0, gradient: 1, hessianVector: n, gaussNewtonVector: 0 });
  });

  it('damping shortens the step: (H + lambda I) d = g', () => {
    const w = variable(tf.zeros([2]));
    // f = 1/2 (2 w0^2 + 4 w1^2) - w0 - w1: H = diag(2, 4), g(0) = (-1, -1).
    const f = () => tf.sub(tf.sum(tf.mul(tf.tensor1d([1, 2]), tf.square(w))), tf.sum(w)) as tf.Scalar;
    own(optimizers.newton({ damping: 2 })).minimize(f);
    expect(Array.from(w.dataSync())).toEqual([0.25, 1 / 6].map(Math.fround));
  });

  it('without a varList, trains only the variables the loss uses (and counts the gradient that finds them)', () => {
    const unused = variable(tf.zeros([3000]));
    const w = variable(tf.zeros([2]));
    const f = () => tf.sum(tf.square(tf.sub(w, tf.tensor1d([1, 2])))) as tf.Scalar;
    const opt = own(optimizers.newton());
    opt.minimize(f);
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    expect(Array.from(unused.dataSync()).every((v) => v === 0)).toBe(true);
    expect(opt.cost.counts.gradient).toBe(2);
  });

  it(`refuses models above maxParameters and points to hessianFree`, () => {
    const w = variable(tf.zeros([2001]));
    const opt = own(optimizers.newton());
    expect(() => opt.minimize(() => tf.sum(tf.square(w)))).toThrow(/newton: the model has 2001 parameters, more than maxParameters \(2000\).*optimizers\.hessianFree/);
    const small = own(optimizers.newton({ maxParameters: 10 }));
    expect(() => small.minimize(() => tf.sum(tf.square(w)))).toThrow(/more than maxParameters \(10\)/);
  });
});

describe('hessianFree', () => {
  it('trains a small net faster than its own first steps suggest, and adapts the damping', () => {
    const net = tinyNet();
    const opt = own(optimizers.hessianFree({ maxCgIterations: 20 }));
    const start = net.loss();
    for (let i = 0; i < 8; i++) opt.minimize(net.split, false, net.vars);
    expect(net.loss()).toBeLessThan(0.5 * start);
    expect(opt.lastStep!.rho).toBeGreaterThan(0);
    expect(opt.damping).not.toBe(1);
    expect(opt.cost.counts.gaussNewtonVector).toBeGreaterThan(8);
    expect(opt.cost.counts.hessianVector).toBe(0);
  });

  it("with curvature 'hessian' takes a plain closure", () => {
    const w = variable(tf.tensor1d([-1.2, 1]));
    const f = () => {
      const [a, b] = tf.split(w, 2) as [tf.Tensor, tf.Tensor];
      return tf.sum(tf.add(tf.mul(100, tf.square(tf.sub(b, tf.square(a)))), tf.square(tf.sub(1, a)))) as tf.Scalar;
    };
    const opt = own(optimizers.hessianFree({ curvature: 'hessian' }));
    for (let i = 0; i < 40; i++) opt.minimize(f);
    Array.from(w.dataSync()).forEach((v) => expect(v).toBeCloseTo(1, 3));
    expect(opt.cost.counts.hessianVector).toBeGreaterThan(0);
  });

  it('the line search never lets the loss go up', () => {
    const net = tinyNet();
    const opt = own(optimizers.hessianFree({ damping: 1e-4, maxCgIterations: 50 }));
    let prev = net.loss();
    for (let i = 0; i < 6; i++) {
      opt.minimize(net.split, false, net.vars);
      const now = net.loss();
      expect(now).toBeLessThanOrEqual(prev + 1e-7);
      prev = now;
    }
  });
});

describe('the tf.Optimizer contract', () => {
  const makers: [string, () => NewtonOptimizer | HessianFreeOptimizer][] = [
    ['newton', () => optimizers.newton({ damping: 1e-3 })],
    ['hessianFree', () => optimizers.hessianFree({ maxCgIterations: 10 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: applyGradients says how to train instead`, () => {
      const opt = own(make());
      const w = variable(tf.zeros([2]));
      expect(() => opt.applyGradients({ [w.name]: tf.ones([2]) })).toThrow(
        new RegExp(`${name}: applyGradients cannot supply curvature.*optimizer\\.minimize\\(\\(\\) => loss\\(\\), false, variables\\)`),
      );
    });

    it(`${name}: leaks no tensor per step`, () => {
      const net = tinyNet();
      const opt = own(make());
      opt.minimize(net.split, false, net.vars);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) opt.minimize(net.split, false, net.vars);
      expect(tf.memory().numTensors).toBe(before);
      const c = opt.minimize(net.split, true, net.vars)!;
      expect(tf.memory().numTensors).toBe(before + 1);
      c.dispose();
    });

    it(`${name}: only the variables in varList move`, () => {
      const net = tinyNet();
      const frozen = Array.from(net.vars[2]!.dataSync());
      own(make()).minimize(net.split, false, net.vars.slice(0, 2));
      expect(Array.from(net.vars[2]!.dataSync())).toEqual(frozen);
    });

    it(`${name}: serialises through tf.serialization and resumes from getWeights/setWeights`, async () => {
      const opt = own(make());
      const cls = opt.constructor as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable> & { className: string };
      const back = own(tf.serialization.SerializationMap.getMap().classNameMap[cls.className]![1](cls, opt.getConfig()) as NewtonOptimizer | HessianFreeOptimizer);
      expect(back.getConfig()).toEqual(opt.getConfig());
      expect(back.constructor).toBe(opt.constructor);

      // Two runs from the same start: one straight through, one saved and restored halfway.
      const run = async (restore: boolean) => {
        const net = tinyNet();
        let o = own(make());
        for (let i = 0; i < 2; i++) o.minimize(net.split, false, net.vars);
        if (restore) {
          const saved = await o.getWeights();
          o = own(make());
          await o.setWeights(saved);
        }
        for (let i = 0; i < 2; i++) o.minimize(net.split, false, net.vars);
        expect(o.iterations).toBe(4);
        return net.vars.map((v) => Array.from(v.dataSync()));
      };
      expect(await run(true)).toEqual(await run(false));
    });

    it(`${name}: rejects unknown and bad hyperparameters by name`, () => {
      const factory = optimizers[name as 'newton'] as (h: unknown) => unknown;
      expect(() => factory({ learningrate: 1 })).toThrow(`${name}: unknown hyperparameter 'learningrate' (did you mean 'learningRate'?)`);
      expect(() => factory({ damping: -1 })).toThrow(new RegExp(`${name}: hyperparameter 'damping' must be`));
      expect(() => factory({ learningRate: Number.NaN })).toThrow(`${name}: hyperparameter 'learningRate' must be a finite number`);
    });
  }

  it("hessianFree's Gauss-Newton needs a split loss, and says so for model.fit", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    own({ dispose: () => model.dispose() });
    model.compile({ optimizer: own(optimizers.hessianFree()), loss: 'meanSquaredError' });
    const xs = own(tf.ones([4, 2]));
    const ys = own(tf.ones([4, 1]));
    await expect(model.fit(xs, ys, { epochs: 1, verbose: 0 })).rejects.toThrow(/curvature 'gauss-newton' needs the loss split.*splitLoss.*model\.fit passes only the loss/);
  });

  it('hessianFree state: damping and the CG warm start by variable name', async () => {
    const net = tinyNet();
    const opt = own(optimizers.hessianFree({ maxCgIterations: 5 }));
    opt.minimize(net.split, false, net.vars);
    const names = (await opt.getWeights()).map((w) => w.name);
    expect(names).toEqual(['iter', 'damping', ...net.vars.map((v) => `${v.name}/direction`)]);
    await expect(opt.setWeights([{ name: 'iter', tensor: own(tf.scalar(1)) }, { name: 'bogus', tensor: own(tf.scalar(1)) }])).rejects.toThrow(
      "hessianFree: setWeights: 'bogus' is not a state of this optimizer",
    );
  });
});
