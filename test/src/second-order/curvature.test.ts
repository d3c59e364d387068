/**
 * The curvature products against independent references: Hessian-vector
 * products against central finite differences of the gradient (including
 * through tanh, sigmoid and softmax, whose tfjs 4.22 second derivatives are
 * wrong or missing without exact-gradients.ts), Gauss-Newton against the
 * Hessian where they are equal (a linear model), and the scoped gradient
 * patch leaving tfjs as it was.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gaussNewtonVector, hessianVector } from '../../../src/second-order/curvature.js';
import { PATCHED_KERNELS, withExactSecondDerivatives } from '../../../src/second-order/exact-gradients.js';
import { splitLoss } from '../../../src/second-order/split-loss.js';
import { disposeList } from '../../../src/second-order/tensor-space.js';

let made: tf.Tensor[] = [];
const own = <T extends tf.Tensor>(t: T): T => (made.push(t), t);
let counter = 0;
const variable = (t: tf.Tensor) => own(tf.variable(t, true, `curvature_test_${++counter}`));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  for (const t of made) t.dispose();
  made = [];
});

const x = () => own(tf.randomNormal([6, 3], 0, 1, 'float32', 1));
const labels = () => own(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32'), 4).toFloat());

/** Central difference of the gradient along v, per variable. */
function finiteDifference(f: () => tf.Scalar, vars: tf.Variable[], v: tf.Tensor[], eps: number): tf.Tensor[] {
  const w0 = vars.map((u) => tf.clone(u));
  const gradAt = (s: number) => {
    vars.forEach((u, i) => u.assign(tf.add(w0[i]!, tf.mul(v[i]!, s))));
    const { grads } = tf.variableGrads(f, vars);
    return vars.map((u) => grads[u.name]!);
  };
  const gp = gradAt(eps);
  const gm = gradAt(-eps);
  vars.forEach((u, i) => u.assign(w0[i]!));
  const out = gp.map((g, i) => tf.div(tf.sub(g, gm[i]!), 2 * eps));
  disposeList([...gp, ...gm, ...w0]);
  return out;
}

function maxRelErr(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => {
    const num = Math.max(...a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]!));
    const den = Math.max(...b.map((t) => tf.max(tf.abs(t)).dataSync()[0]!));
    return num / den;
  });
}

describe('hessianVector', () => {
  // Each head reduces to a scalar; tfjs types a full reduction as a Tensor of any rank.
  const cases: [string, (z: tf.Tensor, y: tf.Tensor) => tf.Tensor][] = [
    ['tanh, mse', (z, y) => tf.mean(tf.square(tf.sub(tf.tanh(z), y)))],
    ['sigmoid, sigmoid cross-entropy', (z, y) => tf.losses.sigmoidCrossEntropy(y, tf.sigmoid(z))],
    ['softmax cross-entropy (logSumExp form)', (z, y) => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.sub(z, tf.logSumExp(z, -1, true))), -1)))],
    ['softmax, squared error', (z, y) => tf.mean(tf.square(tf.sub(tf.softmax(z), y)))],
    ['exp, elu (away from its kink at 0)', (z, y) => tf.mean(tf.mul(tf.exp(tf.mul(z, 0.3)), tf.add(tf.elu(tf.sub(z, 6)), y)))],
  ];
  for (const [name, head] of cases) {
    it(`matches central finite differences through a two-layer net (${name})`, () => {
      const xs = x();
      const y = labels();
      const w1 = variable(tf.randomNormal([3, 5], 0, 0.7, 'float32', 2));
      const w2 = variable(tf.randomNormal([5, 4], 0, 0.7, 'float32', 3));
      const f = () => head(tf.matMul(tf.tanh(tf.matMul(xs, w1)), w2), y) as tf.Scalar;
      const v = [own(tf.randomNormal([3, 5], 0, 1, 'float32', 4)), own(tf.randomNormal([5, 4], 0, 1, 'float32', 5))];
      const before = tf.memory().numTensors;
      const hv = hessianVector(f, [w1, w2], v);
      expect(tf.memory().numTensors).toBe(before + 2);
      const fd = finiteDifference(f, [w1, w2], v, 1e-2);
      expect(maxRelErr(hv, fd)).toBeLessThan(5e-3);
      disposeList([...hv, ...fd]);
    });
  }

  it('would be wrong without the scoped patch (the tfjs 4.22 defect it works around)', () => {
    const w = variable(tf.randomNormal([3, 4], 0, 1, 'float32', 2));
    const xs = x();
    const f = () => tf.sum(tf.square(tf.tanh(tf.matMul(xs, w)))) as tf.Scalar;
    const v = [own(tf.randomNormal([3, 4], 0, 1, 'float32', 3))];
    const raw = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.variableGrads(f, [w]).grads[w.name]!, v[0]!)), [w]);
      return [grads[w.name]!];
    });
    const fd = finiteDifference(f, [w], v, 1e-2);
    const exact = hessianVector(f, [w], v);
    expect(maxRelErr(raw, fd)).toBeGreaterThan(0.1);
    expect(maxRelErr(exact, fd)).toBeLessThan(1e-2);
    disposeList([...raw, ...fd, ...exact]);
  });

  it("names the ops to avoid when tfjs cannot differentiate the loss twice", () => {
    const w = variable(tf.randomNormal([3, 4], 0, 1, 'float32', 2));
    const xs = x();
    const y = labels();
    const f = () => tf.losses.softmaxCrossEntropy(y, tf.matMul(xs, w)) as tf.Scalar;
    expect(() => hessianVector(f, [w], [own(tf.onesLike(w))], 'hessianFree')).toThrow(/hessianFree: tfjs cannot differentiate this loss twice.*tf\.logSumExp/);
  });
});

describe('withExactSecondDerivatives', () => {
  it("puts tfjs's own gradients back, also after a throw", () => {
    const before = PATCHED_KERNELS.map((k) => tf.getGradient(k));
    expect(() =>
      withExactSecondDerivatives(() => {
        expect(tf.getGradient('Tanh')).not.toBe(before[0]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    PATCHED_KERNELS.forEach((k, i) => expect(tf.getGradient(k)).toBe(before[i]));
  });
});

describe('gaussNewtonVector', () => {
  // For a linear model z = X w, J' H_L J is the Hessian exactly, whatever the loss.
  const losses: [string, (z: () => tf.Tensor, y: tf.Tensor) => ReturnType<typeof splitLoss>, () => tf.Tensor][] = [
    ['mse (linear least squares)', (z, y) => splitLoss(z, 'mse', y), () => own(tf.randomNormal([6, 4], 0, 1, 'float32', 9))],
    ['softmax cross-entropy', (z, y) => splitLoss(z, 'softmax-cross-entropy', y), labels],
    ['sigmoid cross-entropy', (z, y) => splitLoss(z, 'sigmoid-cross-entropy', y), () => own(tf.randomUniform([6, 4], 0, 1, 'float32', 9))],
    ['a custom loss (double backpropagation in z)', (z, y) => splitLoss(z, (o) => tf.mean(tf.pow(tf.sub(o, y), 4))), () => own(tf.randomNormal([6, 4], 0, 1, 'float32', 9))],
  ];
  for (const [name, make, targets] of losses) {
    it(`equals the Hessian on a linear model: ${name}`, () => {
      const xs = x();
      const y = targets();
      const w = variable(tf.randomNormal([3, 4], 0, 0.5, 'float32', 7));
      const b = variable(tf.randomNormal([4], 0, 0.5, 'float32', 8));
      const split = make(() => tf.add(tf.matMul(xs, w), b), y);
      const v = [own(tf.randomNormal([3, 4], 0, 1, 'float32', 10)), own(tf.randomNormal([4], 0, 1, 'float32', 11))];
      const z = own(split.outputs());
      const before = tf.memory().numTensors;
      const gv = gaussNewtonVector(split, [w, b], z, v);
      expect(tf.memory().numTensors).toBe(before + 2);
      const hv = hessianVector(split, [w, b], v);
      expect(maxRelErr(gv, hv)).toBeLessThan(1e-5);
      disposeList([...gv, ...hv]);
    });
  }

  it('is positive semi-definite on a nonlinear net where the Hessian is not', () => {
    const xs = x();
    const y = own(tf.randomNormal([6, 2], 0, 1, 'float32', 12));
    const w1 = variable(tf.randomNormal([3, 5], 0, 1.5, 'float32', 13));
    const w2 = variable(tf.randomNormal([5, 2], 0, 1.5, 'float32', 14));
    const split = splitLoss(() => tf.matMul(tf.tanh(tf.matMul(xs, w1)), w2), 'mse', y);
    const z = own(split.outputs());
    let minGauss = Infinity;
    let minHess = Infinity;
    for (let s = 0; s < 20; s++) {
      const v = [tf.randomNormal([3, 5], 0, 1, 'float32', 100 + s), tf.randomNormal([5, 2], 0, 1, 'float32', 200 + s)];
      const gv = gaussNewtonVector(split, [w1, w2], z, v);
      const hv = hessianVector(split, [w1, w2], v);
      const dot = (a: tf.Tensor[]) => tf.tidy(() => a.reduce((acc, t, i) => acc + tf.sum(tf.mul(t, v[i]!)).dataSync()[0]!, 0));
      minGauss = Math.min(minGauss, dot(gv));
      minHess = Math.min(minHess, dot(hv));
      disposeList([...v, ...gv, ...hv]);
    }
    expect(minGauss).toBeGreaterThanOrEqual(0);
    expect(minHess).toBeLessThan(0);
  });
});
