/**
 * Rosenbrock's banana valley in `dim` dimensions, placed at random per seed:
 *
 *   f(x) = R(z),  z = Q x + z0,
 *   R(z) = sum_i 100 (z_{i+1} - z_i^2)^2 + (1 - z_i)^2,
 *
 * with Q a random rotation and z0 the classic start (-1.2, 1, -1.2, 1, ...)
 * with a seeded jitter. Training starts at x = 0 (z = z0); the minimum, 0, is
 * at x* = Q^T (1 - z0). So the valley's shape and difficulty are the classic
 * ones on every seed, but where the optimum lies relative to the start (its
 * direction in weight space) is drawn by the seed: a program that moves every
 * weight by a fixed amount gains on one seed and loses on another.
 *
 * A pure objective with no examples: its "validation loss" is the objective
 * itself at the end (the one task without a data split).
 */
import type * as TF from '@tensorflow/tfjs';
import { rng } from '../data/rng.js';
import type { ArrayProblem, ArrayTask, SuiteName } from './types.js';
import { CONSTANT, DIVERGENCE } from './defaults.js';
import { randomRotation } from './rotation.js';

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
    description: `Rosenbrock's valley in ${c.dim} dimensions, rotated and shifted per seed (start as from (-1.2, 1, ...))`,
    source: 'closed form (seeded rotation and start)',
    steps: c.steps,
    batchSize: 1,
    batching: 'full',
    schedule: CONSTANT,
    metricName: 'loss',
    // "Solved": AdamW's best rate reaches about 1e-3 in 1,000 steps; below 1e-3
    // the differences are between solvers, not between good and bad optimizers.
    lossFloor: 1e-3,
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
  const d = c.dim;
  const r = rng(c.name, seed, 'start');
  const z0 = Float64Array.from({ length: d }, (_, i) => (i % 2 === 0 ? -1.2 : 1) + 0.1 * r.normal());
  const q = randomRotation(d, rng(c.name, seed, 'rotation'));
  const z = new Float64Array(d);
  const gz = new Float64Array(d);
  const at = (x: Float64Array, grad: Float64Array | null): number => {
    for (let i = 0; i < d; i++) {
      let s = z0[i]!;
      for (let k = 0; k < d; k++) s += q[i]![k]! * x[k]!;
      z[i] = s;
    }
    const f = rosenbrock(z, grad ? gz : null);
    if (grad) {
      // dF/dx = Q^T dR/dz
      grad.fill(0);
      for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) grad[k]! += q[i]![k]! * gz[i]!;
    }
    return f;
  };
  return {
    nTrain: null,
    init: () => [new Float64Array(d)],
    lossGrad: (ws, _batch, gs) => at(ws[0]!, gs[0]!),
    validate: (ws) => {
      const f = at(ws[0]!, null);
      return { loss: f, metric: f };
    },
    tfLoss: (tf, ws) =>
      tf.tidy(() => {
        // The same rotated and shifted valley as lossGrad: z = Q x + z0.
        const qt = tf.tensor2d(Float32Array.from(q.flatMap((row) => Array.from(row))), [d, d]);
        const x = tf.add(tf.reshape(tf.matMul(qt, tf.reshape(ws[0]!, [d, 1])), [d]), tf.tensor1d(Float32Array.from(z0)));
        const a = tf.slice(x, 0, c.dim - 1);
        const b = tf.slice(x, 1, c.dim - 1);
        return tf.sum(tf.add(tf.mul(100, tf.square(tf.sub(b, tf.square(a)))), tf.square(tf.sub(1, a)))) as TF.Scalar;
      }),
  };
}
