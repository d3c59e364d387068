/**
 * Rosenbrock's banana valley in `dim` dimensions:
 * f(x) = sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimum 0 at (1, ..., 1),
 * started near the classic (-1.2, 1, -1.2, 1, ...) with a seeded jitter. A
 * pure objective with no examples: its "validation loss" is the objective
 * itself at the end (the one task without a data split).
 */
import type * as TF from '@tensorflow/tfjs';
import { rng } from '../data/rng.js';
import type { SuiteName } from '../../search/types.js';
import type { ArrayProblem, ArrayTask } from './types.js';
import { CONSTANT, DIVERGENCE } from './defaults.js';

export interface RosenbrockConfig {
  name: string;
  suite: SuiteName;
  dim: number;
  steps: number;
}

export function rosenbrockTask(c: RosenbrockConfig): ArrayTask {
  return {
    kind: 'array',
    name: c.name,
    suite: c.suite,
    description: `Rosenbrock's valley in ${c.dim} dimensions from near (-1.2, 1, ...)`,
    source: 'closed form (seeded start)',
    steps: c.steps,
    batchSize: 1,
    batching: 'full',
    schedule: CONSTANT,
    metricName: 'loss',
    lossFloor: 1e-4,
    divergence: DIVERGENCE,
    paramCount: c.dim,
    setup: (seed) => rosenbrockProblem(c, seed),
  };
}

export function rosenbrock(x: Float64Array, grad: Float64Array | null): number {
  let f = 0;
  if (grad) grad.fill(0);
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!;
    const b = 1 - x[i]!;
    f += 100 * a * a + b * b;
    if (grad) {
      grad[i]! += -400 * a * x[i]! - 2 * b;
      grad[i + 1]! += 200 * a;
    }
  }
  return f;
}

export function rosenbrockProblem(c: RosenbrockConfig, seed: number): ArrayProblem {
  const r = rng(c.name, seed, 'start');
  const x0 = Float64Array.from({ length: c.dim }, (_, i) => (i % 2 === 0 ? -1.2 : 1) + 0.1 * r.normal());
  return {
    nTrain: null,
    init: () => [Float64Array.from(x0)],
    lossGrad: (ws, _batch, gs) => rosenbrock(ws[0]!, gs[0]!),
    validate: (ws) => {
      const f = rosenbrock(ws[0]!, null);
      return { loss: f, metric: f };
    },
    tfLoss: (tf, ws) =>
      tf.tidy(() => {
        const x = ws[0]!;
        const a = tf.slice(x, 0, c.dim - 1);
        const b = tf.slice(x, 1, c.dim - 1);
        return tf.sum(tf.add(tf.mul(100, tf.square(tf.sub(b, tf.square(a)))), tf.square(tf.sub(1, a)))) as TF.Scalar;
      }),
  };
}
