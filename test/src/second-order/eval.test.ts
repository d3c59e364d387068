/**
 * `optevo eval newton|hessianFree`: full-batch runs at equal gradient
 * evaluations with AdamW, iterations and gradient-evaluation equivalents
 * reported per task; a failure (too many parameters for newton, a
 * mini-batch task) is a task's result, never a crash. Also the Gauss-Newton
 * curvature mini-batch, counted by its fraction.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/run-cli.js';
import { optimizers } from '../../../src/all-optimizers.js';
import { splitLoss, withCurvatureBatch } from '../../../src/second-order/split-loss.js';

const runHere = (...args: string[]) => cli(args);

interface TaskOut {
  task: string;
  loss: number | null;
  failure?: string;
  iterations: number;
  gradientEquivalents: number;
  budget: number;
  reference: { loss: number | null } | null;
  curve: number[];
}

describe('optevo eval newton hessianFree', () => {
  it('runs the full-batch tasks within a gradient-evaluation budget and scores against AdamW', async () => {
    const r = await runHere('eval', 'newton', 'hessianFree', '--task', 'quadratic', '--task', 'rosenbrock', '--steps', '80', '--backend', 'cpu', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { results: { program: string; tasks: TaskOut[] }[] };
    expect(out.results.map((x) => x.program)).toEqual(['newton', 'hessianFree']);
    const [newton, hf] = out.results;
    for (const t of [...newton!.tasks, ...hf!.tasks]) {
      expect(t.failure).toBeUndefined();
      expect(t.budget).toBe(80);
      expect(t.iterations).toBeGreaterThan(0);
      expect(t.curve).toHaveLength(t.iterations);
      // It stops at the first iteration that reaches the budget: over it by at most that iteration.
      expect(t.gradientEquivalents).toBeGreaterThanOrEqual(80);
    }
    const nq = newton!.tasks.find((t) => t.task === 'quadratic')!;
    // 16 parameters: 1 gradient + 16 Hessian-vector products (4 each) = 65 per iteration.
    expect(nq.gradientEquivalents).toBe(65 * nq.iterations);
    expect(nq.iterations).toBe(2);
    // Newton solves the quadratic: better than AdamW's 80 steps at its best rate.
    expect(nq.loss!).toBeLessThan(nq.reference!.loss!);
    const nr = newton!.tasks.find((t) => t.task === 'rosenbrock')!;
    expect(nr.loss!).toBeLessThan(1e-6);
  });

  it('a mini-batch task is a failed task with the reason; a tfjs task runs with Gauss-Newton under --batching full', async () => {
    const r = await runHere('eval', 'hessianFree', '--task', 'sparse-logistic', '--task', 'fixture-js', '--steps', '12', '--backend', 'cpu', '--json', '--tasks-module', 'test/fixtures/tasks/good.mjs');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { results: { tasks: TaskOut[] }[] };
    expect(out.results[0]!.tasks.map((t) => t.failure)).toEqual([
      "hessianFree runs full-batch: task 'sparse-logistic' trains on mini batches; pass --batching full (AdamW's reference then runs full-batch too)",
      "hessianFree runs full-batch: task 'fixture-js' trains on mini batches; pass --batching full (AdamW's reference then runs full-batch too)",
    ]);
    const full = JSON.parse((await runHere('eval', 'hessianFree', '--task', 'fixture-js', '--steps', '12', '--batching', 'full', '--backend', 'cpu', '--json', '--tasks-module', 'test/fixtures/tasks/good.mjs')).out) as {
      results: { tasks: (TaskOut & { curvature: string })[] }[];
    };
    const hf = full.results[0]!.tasks[0]!;
    expect(hf.failure).toBeUndefined();
    expect(hf.curvature).toBe('gauss-newton');
    expect(hf.loss).toBeGreaterThan(0);
    expect(hf.iterations).toBeGreaterThanOrEqual(1);
  });
});

describe('withCurvatureBatch', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('takes the Gauss-Newton products on the subset and counts them by its fraction', () => {
    const x = tf.randomNormal([40, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const y = tf.randomNormal([40, 1], 0, 1, 'float32', 2) as tf.Tensor2D;
    const w = tf.variable(tf.randomNormal([3, 1], 0, 1, 'float32', 3));
    const net = (a: tf.Tensor2D) => () => tf.tanh(tf.matMul(a, w));
    const xs = x.slice([0, 0], [10, 3]);
    const ys = y.slice([0, 0], [10, 1]);
    const f = withCurvatureBatch(splitLoss(net(x), 'mse', y), splitLoss(net(xs), 'mse', ys), 0.25);
    const opt = optimizers.hessianFree({ maxCgIterations: 3 });
    const before = f().dataSync()[0]!;
    opt.minimize(f, false, [w]);
    expect(f().dataSync()[0]!).toBeLessThan(before);
    const products = opt.cost.counts.gaussNewtonVector;
    expect(products).toBeGreaterThan(0);
    // Whole products are 4 times the counted fraction.
    expect(Number.isInteger(products * 4)).toBe(true);
    expect(() => withCurvatureBatch(f, f, 0)).toThrow('withCurvatureBatch: fraction must be in (0, 1], got 0');
    for (const t of [x, y, w, xs, ys]) t.dispose();
    opt.dispose();
  });
});
