/**
 * An ill-conditioned quadratic: linear least squares, loss = mean of
 * (x_i . w - y_i)^2 / 2, whose inputs have covariance eigenvalues log-spaced
 * over `condition` along random directions (so the valley is not aligned with
 * the axes). Targets come from a seeded true w plus a little noise; the
 * validation split is held-out examples. Training starts at w = 0, so the
 * seed draws where the optimum lies relative to the start (the true w, from
 * N(0, 1) per coordinate): a fixed move of every weight helps on one seed and
 * hurts on another. Closed-form gradient: an array task.
 */
import type * as TF from '@tensorflow/tfjs';
import { rng } from '../data/rng.js';
import type { ArrayProblem, ArrayTask, Batching, SuiteName } from './types.js';
import { CONSTANT, DIVERGENCE } from './defaults.js';
import { randomRotation } from './rotation.js';

export interface QuadraticConfig {
  name: string;
  suite: SuiteName;
  dim: number;
  condition: number;
  nTrain: number;
  nVal: number;
  steps: number;
  batchSize: number;
  batching: Batching;
}

const NOISE = 0.01;

export function quadraticTask(c: QuadraticConfig): ArrayTask {
  return {
    kind: 'array',
    name: c.name,
    suite: c.suite,
    description: `ill-conditioned quadratic: least squares in ${c.dim} dimensions, condition number ${c.condition}`,
    source: `synthetic (seeded): ${c.nTrain} + ${c.nVal} examples`,
    steps: c.steps,
    batchSize: c.batchSize,
    batching: c.batching,
    schedule: CONSTANT,
    metricName: 'loss',
    // The noise floor: half the noise variance.
    lossFloor: (NOISE * NOISE) / 2,
    divergence: DIVERGENCE,
    paramCount: c.dim,
    setup: (seed) => quadraticProblem(c, seed),
  };
}

export function quadraticProblem(c: QuadraticConfig, seed: number): ArrayProblem {
  const d = c.dim;
  const r = rng(c.name, seed, 'problem');
  // A random orthonormal basis: the valley is not aligned with the axes.
  const q = randomRotation(d, r);
  // Eigenvalues of the input covariance from 1 down to 1/condition.
  const scale = Float64Array.from({ length: d }, (_, i) => Math.sqrt(Math.pow(c.condition, -i / Math.max(1, d - 1))));
  const wTrue = Float64Array.from({ length: d }, () => r.normal());
  const make = (n: number, stream: string) => {
    const g = rng(c.name, seed, stream);
    const x = new Float64Array(n * d);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const z = g.normal() * scale[j]!;
        for (let k = 0; k < d; k++) x[i * d + k]! += z * q[j]![k]!;
      }
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k]! * wTrue[k]!;
      y[i] = s + NOISE * g.normal();
    }
    return { x, y, n };
  };
  const train = make(c.nTrain, 'train');
  const val = make(c.nVal, 'val');
  const w0 = Float64Array.from({ length: d }, () => 0);
  const lossOn = (set: typeof train, w: Float64Array, rows: Int32Array | null, grad: Float64Array | null): number => {
    const m = rows ? rows.length : set.n;
    if (grad) grad.fill(0);
    let loss = 0;
    for (let a = 0; a < m; a++) {
      const i = rows ? rows[a]! : a;
      let e = -set.y[i]!;
      for (let k = 0; k < d; k++) e += set.x[i * d + k]! * w[k]!;
      loss += 0.5 * e * e;
      if (grad) for (let k = 0; k < d; k++) grad[k]! += (e * set.x[i * d + k]!) / m;
    }
    return loss / m;
  };
  return {
    nTrain: c.nTrain,
    init: () => [Float64Array.from(w0)],
    lossGrad: (ws, batch, gs) => lossOn(train, ws[0]!, batch, gs[0]!),
    validate: (ws) => {
      const l = lossOn(val, ws[0]!, null, null);
      return { loss: l, metric: l };
    },
    tfLoss: (tf, ws) =>
      tf.tidy(() => {
        const e = tf.sub(tf.matMul(tf.tensor2d(Float32Array.from(train.x), [train.n, d]), tf.reshape(ws[0]!, [d, 1])), tf.tensor2d(Float32Array.from(train.y), [train.n, 1]));
        return tf.div(tf.sum(tf.square(e)), 2 * train.n) as TF.Scalar;
      }),
  };
}
