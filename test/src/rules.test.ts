/**
 * The library's rules beyond the seeds, in their default (PyTorch) form,
 * against float64 transcriptions of torch.optim's update (RMSprop with
 * momentum and centered, Adamax), for 30 steps on an ill-conditioned
 * quadratic: the float32 optimizer stays within 1e-4 relative of float64.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { optimizers } from '../../src/optimizers.js';

const CURV = [100, 10, 1, 0.1];
const TARGET = [1, -2, 0.5, 3];
const START = [0, 0, 0, 0];
const grad = (w: number[]) => w.map((x, i) => CURV[i]! * (x - TARGET[i]!));

/** torch.optim.RMSprop's step (alpha = decay), in float64. */
function torchRmsprop(o: { lr: number; alpha: number; eps: number; momentum: number; centered: boolean }) {
  const v = [0, 0, 0, 0];
  const gavg = [0, 0, 0, 0];
  const buf = [0, 0, 0, 0];
  return (w: number[], g: number[]) =>
    w.map((x, i) => {
      v[i] = o.alpha * v[i]! + (1 - o.alpha) * g[i]! ** 2;
      let avg: number;
      if (o.centered) {
        gavg[i] = o.alpha * gavg[i]! + (1 - o.alpha) * g[i]!;
        avg = Math.sqrt(v[i] - gavg[i] ** 2) + o.eps;
      } else avg = Math.sqrt(v[i]) + o.eps;
      if (o.momentum > 0) {
        buf[i] = o.momentum * buf[i]! + g[i]! / avg;
        return x - o.lr * buf[i];
      }
      return x - (o.lr * g[i]!) / avg;
    });
}

/** torch.optim.Adamax's step, in float64. */
function torchAdamax(o: { lr: number; beta1: number; beta2: number; eps: number }) {
  const m = [0, 0, 0, 0];
  const u = [0, 0, 0, 0];
  let t = 0;
  return (w: number[], g: number[]) => {
    t++;
    return w.map((x, i) => {
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g[i]!;
      u[i] = Math.max(o.beta2 * u[i]!, Math.abs(g[i]!) + o.eps);
      return x - (o.lr / (1 - o.beta1 ** t)) * (m[i] / u[i]);
    });
  };
}

const ROWS: [string, () => tf.Optimizer, (w: number[], g: number[]) => number[]][] = [
  ['rmsprop, momentum 0.9', () => optimizers.rmsprop({ learningRate: 0.002, momentum: 0.9 }), torchRmsprop({ lr: 0.002, alpha: 0.9, eps: 1e-8, momentum: 0.9, centered: false })],
  ['rmsprop, centred', () => optimizers.rmsprop({ learningRate: 0.01, centered: true }), torchRmsprop({ lr: 0.01, alpha: 0.9, eps: 1e-8, momentum: 0, centered: true })],
  [
    'rmsprop, centred with momentum',
    () => optimizers.rmsprop({ learningRate: 0.002, decay: 0.95, momentum: 0.5, centered: true }),
    torchRmsprop({ lr: 0.002, alpha: 0.95, eps: 1e-8, momentum: 0.5, centered: true }),
  ],
  ['adamax', () => optimizers.adamax({ learningRate: 0.05 }), torchAdamax({ lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 })],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('PyTorch forms of the library rules', () => {
  it.each(ROWS)('%s matches torch.optim within 1e-4 relative over 30 steps', (label, make, reference) => {
    const v = tf.variable(tf.tensor1d(START), true, `rules_${label.replace(/\W+/g, '_')}`);
    const opt = make();
    let want = [...START];
    for (let step = 0; step < 30; step++) {
      const got = Array.from(v.dataSync());
      const g = tf.tensor1d(grad(got));
      opt.applyGradients([{ name: v.name, tensor: g }]);
      g.dispose();
      want = reference(want, grad(want));
      Array.from(v.dataSync()).forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(Math.abs(want[i]!), 1e-3)));
    }
    expect(Math.abs(want[0]! - START[0]!)).toBeGreaterThan(0.05);
    opt.dispose();
    v.dispose();
  });
});
