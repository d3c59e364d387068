/**
 * A drop-in for tf.train: each of tf.train's optimizers against
 * `optimizers.NAME(..., { convention: 'tfjs' })`, 100 full-batch steps on the
 * same small network from the same weights; the weights must agree to 1e-6
 * at every tenth step and at the end. One table: adding a rule is one row.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../dsl/mulberry32.js';
import { optimizers } from '../../src/optimizers.js';

const STEPS = 100;

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
}

const X = values(32 * 4, 1);
const Y = values(32 * 2, 2);
const INIT = { w1: values(4 * 6, 3), b1: values(6, 4), w2: values(6 * 2, 5) };

/** Trains a 4-6-2 tanh network with `opt` and returns its weights every tenth step. */
function trajectory(opt: tf.Optimizer, tag: string): Float32Array[][] {
  const w1 = tf.variable(tf.tensor2d(INIT.w1, [4, 6]), true, `${tag}/w1`);
  const b1 = tf.variable(tf.tensor1d(INIT.b1), true, `${tag}/b1`);
  const w2 = tf.variable(tf.tensor2d(INIT.w2, [6, 2]), true, `${tag}/w2`);
  const x = tf.tensor2d(X, [32, 4]);
  const y = tf.tensor2d(Y, [32, 2]);
  const snapshots: Float32Array[][] = [];
  for (let i = 1; i <= STEPS; i++) {
    opt.minimize(() => tf.losses.meanSquaredError(y, tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2)) as tf.Scalar, false, [w1, b1, w2]);
    if (i % 10 === 0) snapshots.push([w1, b1, w2].map((v) => v.dataSync() as Float32Array));
  }
  tf.dispose([w1, b1, w2, x, y]);
  opt.dispose();
  return snapshots;
}

function maxDiff(a: Float32Array[][], b: Float32Array[][]): number {
  let worst = 0;
  a.forEach((snap, i) => snap.forEach((arr, j) => arr.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b[i]![j]![k]!))))));
  return worst;
}

interface Row {
  label: string;
  theirs: () => tf.Optimizer;
  ours: () => tf.Optimizer;
  /** The same call without the convention: how far optevo's default form is from tf.train (or null: identical rule). */
  pytorch?: () => tf.Optimizer;
}

// Learning rates large enough that 100 steps move the weights well away from the start.
const ROWS: Row[] = [
  { label: 'sgd', theirs: () => tf.train.sgd(0.1), ours: () => optimizers.sgd({ learningRate: 0.1 }, { convention: 'tfjs' }) },
  { label: 'momentum', theirs: () => tf.train.momentum(0.05, 0.9), ours: () => optimizers.momentum({ learningRate: 0.05, momentum: 0.9 }, { convention: 'tfjs' }) },
  {
    label: 'momentum (Nesterov)',
    theirs: () => tf.train.momentum(0.05, 0.9, true),
    ours: () => optimizers.nesterov({ learningRate: 0.05, momentum: 0.9 }, { convention: 'tfjs' }),
  },
  {
    label: 'rmsprop',
    theirs: () => tf.train.rmsprop(0.01),
    ours: () => optimizers.rmsprop({ learningRate: 0.01 }, { convention: 'tfjs' }),
    pytorch: () => optimizers.rmsprop({ learningRate: 0.01 }),
  },
  {
    label: 'rmsprop with momentum',
    theirs: () => tf.train.rmsprop(0.01, 0.9, 0.5),
    ours: () => optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5 }, { convention: 'tfjs' }),
  },
  {
    label: 'rmsprop centred',
    theirs: () => tf.train.rmsprop(0.01, 0.9, 0, undefined, true),
    ours: () => optimizers.rmsprop({ learningRate: 0.01, centered: true }, { convention: 'tfjs' }),
  },
  {
    label: 'rmsprop centred with momentum',
    // tfjs subtracts epsilon under the root, which goes negative (NaN) where a gradient is tiny: a smaller epsilon here.
    theirs: () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-10, true),
    ours: () => optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5, centered: true, epsilon: 1e-10 }, { convention: 'tfjs' }),
  },
  {
    label: 'adagrad',
    theirs: () => tf.train.adagrad(0.1),
    ours: () => optimizers.adagrad({ learningRate: 0.1 }, { convention: 'tfjs' }),
    pytorch: () => optimizers.adagrad({ learningRate: 0.1 }),
  },
  {
    label: 'adagrad, initial accumulator 0.5',
    theirs: () => tf.train.adagrad(0.1, 0.5),
    ours: () => optimizers.adagrad({ learningRate: 0.1, initialAccumulatorValue: 0.5 }, { convention: 'tfjs' }),
  },
  {
    label: 'adadelta',
    theirs: () => tf.train.adadelta(1),
    ours: () => optimizers.adadelta({ learningRate: 1 }, { convention: 'tfjs' }),
    pytorch: () => optimizers.adadelta({ learningRate: 1, rho: 0.95, epsilon: 1e-7 }),
  },
  {
    label: 'adam',
    theirs: () => tf.train.adam(0.01),
    ours: () => optimizers.adam({ learningRate: 0.01 }, { convention: 'tfjs' }),
    pytorch: () => optimizers.adam({ learningRate: 0.01 }),
  },
  {
    label: 'adamax',
    theirs: () => tf.train.adamax(0.01),
    ours: () => optimizers.adamax({ learningRate: 0.01 }, { convention: 'tfjs' }),
    pytorch: () => optimizers.adamax({ learningRate: 0.01 }),
  },
  {
    label: 'adamax with decay',
    theirs: () => tf.train.adamax(0.01, 0.9, 0.999, undefined, 0.01),
    ours: () => optimizers.adamax({ learningRate: 0.01, decay: 0.01 }, { convention: 'tfjs' }),
  },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe("{ convention: 'tfjs' } reproduces tf.train", () => {
  it.each(ROWS.map((r) => [r.label, r] as const))('%s: weights within 1e-6 over 100 steps', (label, row) => {
    const tag = label.replace(/\W+/g, '_');
    const want = trajectory(row.theirs(), `tfjs_${tag}`);
    const got = trajectory(row.ours(), `optevo_${tag}`);
    // The run goes somewhere: the comparison is not between two standing starts.
    expect(maxDiff(want.slice(-1), [[Float32Array.from(INIT.w1), Float32Array.from(INIT.b1), Float32Array.from(INIT.w2)]])).toBeGreaterThan(0.01);
    expect(maxDiff(got, want)).toBeLessThan(1e-6);
  });

  it.each(ROWS.filter((r) => r.pytorch).map((r) => [r.label, r] as const))(
    '%s: the default (PyTorch) convention is measurably different, as the README says',
    (label, row) => {
      const tag = label.replace(/\W+/g, '_');
      const want = trajectory(row.theirs(), `tfjs_d_${tag}`);
      const got = trajectory(row.pytorch!(), `optevo_d_${tag}`);
      expect(maxDiff(got, want)).toBeGreaterThan(2e-6);
    },
  );

  it('names the rules tf.train lacks', () => {
    expect(() => optimizers.lion({}, { convention: 'tfjs' })).toThrow("lion: tf.train has no lion, so there is no tfjs convention for it (tf.train's rules: sgd, momentum, nesterov, rmsprop, adagrad, adadelta, adam, adamax)");
    expect(() => optimizers.adam({}, { convention: 'keras' as 'tfjs' })).toThrow("adam: unknown convention 'keras' (conventions: pytorch, tfjs)");
    expect(() => optimizers.adam({ centered: true } as never)).toThrow("adam: unknown option 'centered' (only rmsprop takes it)");
    expect(() => optimizers.rmsprop({ centered: 1 as never })).toThrow("rmsprop: 'centered' must be true or false, got 1");
    expect(() => optimizers.adam({}, { shedule: 1 } as never)).toThrow("adam: unknown option 'shedule'; options are schedule, convention");
  });

  it('keeps no state a plain RMSProp does not need', async () => {
    const w = tf.variable(tf.ones([3]), true, 'rms_state_w');
    const count = async (o: tf.Optimizer) => {
      o.applyGradients({ rms_state_w: tf.ones([3]) });
      const n = (await o.getWeights()).length - 1;
      o.dispose();
      return n;
    };
    expect(await count(optimizers.rmsprop({}, { convention: 'tfjs' }))).toBe(1);
    expect(await count(optimizers.rmsprop({ momentum: 0 }))).toBe(1);
    expect(await count(optimizers.rmsprop({ momentum: 0.9 }))).toBe(2);
    expect(await count(optimizers.rmsprop({ momentum: 0.9, centered: true }))).toBe(3);
    w.dispose();
  });
});
