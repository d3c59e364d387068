/**
 * The wrappers: each step's exact effect, the order rules, AdamW as
 * adam + weightDecay, serialisation (getConfig/fromConfig, getWeights/
 * setWeights, a saved tfjs-layers model), and no tensor leaked per step.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DECAY_SKIP, accumulate, chain, ChainedOptimizer, clipByGlobalNorm, clipByValue, skipNonFinite, weightDecay } from '../../src/chain.js';
import { optimizers } from '../../src/optimizers.js';
import { schedules } from '../../src/schedules.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let n = 0;
const made: tf.Variable[] = [];
/** A fresh variable with a unique name ending in `suffix`. */
function variable(values: number[], suffix = 'kernel'): tf.Variable {
  const v = tf.variable(tf.tensor1d(values), true, `chain${n++}/${suffix}`);
  made.push(v);
  return v;
}
afterEach(() => {
  tf.dispose(made.splice(0));
});

const step = (o: tf.Optimizer, grads: [tf.Variable, number[]][]) => {
  const named = grads.map(([v, g]) => ({ name: v.name, tensor: tf.tensor1d(g) }));
  o.applyGradients(named);
  tf.dispose(named.map((x) => x.tensor));
};
const values = (v: tf.Variable) => Array.from(v.dataSync());

describe('clipping', () => {
  it('clipByGlobalNorm scales all gradients together to the norm, and leaves smaller ones alone', () => {
    const a = variable([0, 0]);
    const b = variable([0]);
    const o = chain(clipByGlobalNorm(1), optimizers.sgd({ learningRate: 1 }));
    step(o, [
      [a, [3, 0]],
      [b, [4]],
    ]); // global norm 5
    expect(values(a)[0]).toBeCloseTo(-0.6, 6);
    expect(values(b)[0]).toBeCloseTo(-0.8, 6);
    step(o, [
      [a, [0.3, 0]],
      [b, [0.4]],
    ]); // norm 0.5: unchanged
    expect(values(a)[0]).toBeCloseTo(-0.9, 6);
    expect(values(b)[0]).toBeCloseTo(-1.2, 6);
    o.dispose();
  });

  it('clipByValue clamps each value', () => {
    const a = variable([0, 0, 0]);
    const o = chain(clipByValue(0.5), optimizers.sgd({ learningRate: 1 }));
    step(o, [[a, [2, -0.25, -3]]]);
    expect(values(a)).toEqual([-0.5, 0.25, 0.5]);
    o.dispose();
  });
});

describe('accumulate', () => {
  it('applies the mean of k gradients once every k calls', () => {
    const a = variable([1, 1]);
    const rule = optimizers.sgd({ learningRate: 0.5 });
    const o = chain(accumulate(3), rule);
    step(o, [[a, [1, 2]]]);
    step(o, [[a, [2, 2]]]);
    expect(values(a)).toEqual([1, 1]);
    expect(rule.iterations).toBe(0);
    step(o, [[a, [3, 5]]]);
    expect(values(a)[0]).toBeCloseTo(1 - 0.5 * 2, 6);
    expect(values(a)[1]).toBeCloseTo(1 - 0.5 * 3, 6);
    expect(rule.iterations).toBe(1);
    expect(o.iterations).toBe(3);
    // The sums start again.
    step(o, [[a, [1, 1]]]);
    step(o, [[a, [1, 1]]]);
    step(o, [[a, [1, 1]]]);
    expect(values(a)[0]).toBeCloseTo(-0.5, 6);
    o.dispose();
  });
});

describe('skipNonFinite', () => {
  it('drops a step with a NaN or an infinity anywhere, and counts it', () => {
    const a = variable([1]);
    const b = variable([1]);
    const rule = optimizers.momentum({ learningRate: 0.1 });
    const o = chain(skipNonFinite(), rule);
    step(o, [
      [a, [1]],
      [b, [NaN]],
    ]);
    step(o, [
      [a, [Infinity]],
      [b, [1]],
    ]);
    expect(values(a)).toEqual([1]);
    expect(values(b)).toEqual([1]);
    expect(o.skipped).toBe(2);
    expect(rule.iterations).toBe(0);
    step(o, [
      [a, [1]],
      [b, [1]],
    ]);
    expect(values(a)[0]).toBeCloseTo(0.9, 6);
    expect(o.skipped).toBe(2);
    o.dispose();
  });
});

describe('weightDecay', () => {
  it('adam + weightDecay is AdamW, step for step', () => {
    const a = variable([0.5, -1, 2]);
    const b = variable([0.5, -1, 2]);
    const ours = chain(optimizers.adam({ learningRate: 0.01 }), weightDecay(0.1, { skip: [] }));
    const theirs = optimizers.adamw({ learningRate: 0.01, weightDecay: 0.1 });
    for (let i = 0; i < 30; i++) {
      const g = [Math.sin(i), Math.cos(i), 0.1 * i - 1];
      step(ours, [[a, g]]);
      step(theirs, [[b, g]]);
    }
    // The same arithmetic in another order: float32 rounding apart.
    values(a).forEach((x, i) => expect(Math.abs(x - values(b)[i]!)).toBeLessThan(5e-6));
    expect(Math.abs(values(a)[2]! - 2)).toBeGreaterThan(0.04);
    ours.dispose();
    theirs.dispose();
  });

  it('skips biases and normalisation scales by default, and follows the schedule', () => {
    const kernel = variable([1], 'kernel');
    const bias = variable([1], 'bias');
    const gamma = variable([1], 'gamma_1');
    const o = chain(optimizers.sgd({ learningRate: 0.1 }, { schedule: schedules.constant(0.5) }), weightDecay(0.2));
    step(o, [
      [kernel, [0]],
      [bias, [0]],
      [gamma, [0]],
    ]);
    expect(values(kernel)[0]).toBeCloseTo(1 - 0.05 * 0.2, 7);
    expect(values(bias)).toEqual([1]);
    expect(values(gamma)).toEqual([1]);
    expect(DEFAULT_DECAY_SKIP.test('dense_Dense1/bias')).toBe(true);
    expect(DEFAULT_DECAY_SKIP.test('batch_normalization_BatchNormalization1/beta')).toBe(true);
    expect(DEFAULT_DECAY_SKIP.test('dense_Dense1/kernel')).toBe(false);
    expect(DEFAULT_DECAY_SKIP.test('embedding_Embedding1/embeddings')).toBe(false);
    o.dispose();
  });

  it('wraps tf.train optimizers too, with their learning rate', () => {
    const a = variable([1]);
    const o = chain(clipByValue(1), tf.train.sgd(0.1), weightDecay(0.5, { skip: /never/ }));
    step(o, [[a, [10]]]);
    expect(values(a)[0]).toBeCloseTo(1 - 0.1 - 0.1 * 0.5, 6);
    o.dispose();
  });
});

describe('composition', () => {
  it('reads left to right: gradient steps, one rule, update steps', () => {
    expect(() => chain(weightDecay(0.1), optimizers.adam())).toThrow("chain: weightDecay adds to the rule's update: put it after the rule");
    expect(() => chain(optimizers.adam(), clipByGlobalNorm(1))).toThrow('chain: clipByGlobalNorm transforms gradients: put it before the rule');
    expect(() => chain(clipByGlobalNorm(1))).toThrow('chain: needs one rule');
    expect(() => chain(optimizers.adam(), optimizers.sgd())).toThrow('chain: takes exactly one rule');
    expect(() => chain(optimizers.sgd(), 3 as never)).toThrow('chain: part 2 is neither a step');
    expect(() => clipByGlobalNorm(0)).toThrow("clipByGlobalNorm: 'maxNorm' must be a finite number > 0, got 0");
    expect(() => accumulate(1.5)).toThrow("accumulate: 'steps' must be a whole number >= 1, got 1.5");
    expect(() => weightDecay(-1)).toThrow("weightDecay: 'rate' must be a finite number >= 0, got -1");
  });

  it('leaks no tensor per step', () => {
    const a = variable([1, 2, 3]);
    const o = chain(skipNonFinite(), clipByGlobalNorm(1), accumulate(2), clipByValue(0.1), optimizers.adam({ learningRate: 0.01 }, { schedule: schedules.warmupCosine({ warmupSteps: 2, totalSteps: 10 }) }), weightDecay(0.01));
    step(o, [[a, [1, 2, 3]]]);
    step(o, [[a, [1, 2, 3]]]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) step(o, [[a, [1, NaN, 3].map((x) => (i === 3 ? x : 1))]]);
    expect(tf.memory().numTensors).toBe(before);
    expect(o.skipped).toBe(1);
    o.dispose();
  });
});

describe('serialisation', () => {
  const build = () =>
    chain(
      clipByGlobalNorm(2),
      accumulate(2),
      optimizers.adam({ learningRate: 0.05 }, { schedule: schedules.join([schedules.linearWarmup({ steps: 3 }), schedules.cosine({ steps: 20, min: 0.1 })], [3]) }),
      weightDecay(0.01, { skip: /bias$/i }),
      // Names with underscores, which tfjs-layers would camel-case in a saved config.
      weightDecay(0.001, { skip: ['dense_Dense1/kernel', 'my_var'] }),
    );

  it('round-trips through getConfig and the class registry, and behaves the same', () => {
    const o = build();
    const config = JSON.parse(JSON.stringify(o.getConfig()));
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap['OptevoChain']!;
    const copy = fromConfig(cls, config) as unknown as ChainedOptimizer;
    expect(copy).toBeInstanceOf(ChainedOptimizer);
    expect(copy.getConfig()).toEqual(config);
    expect(copy.after.map((s) => s.skip)).toEqual([{ pattern: 'bias$', flags: 'i' }, ['dense_Dense1/kernel', 'my_var']]);
    const a = variable([1, -1]);
    const b = variable([1, -1]);
    for (let i = 0; i < 8; i++) {
      step(o, [[a, [i, 1]]]);
      step(copy, [[b, [i, 1]]]);
    }
    expect(values(b)).toEqual(values(a));
    o.dispose();
    copy.dispose();
  });

  it('saves and restores its state with getWeights / setWeights', async () => {
    const a = variable([1, -1]);
    const o = build();
    for (let i = 0; i < 5; i++) step(o, [[a, [i, 1]]]);
    const saved = await o.getWeights();
    expect(saved.map((w) => w.name)).toEqual(['iter', 'rule/iter', `rule/${a.name}/m`, `rule/${a.name}/v`, 'accumulate0/count', `accumulate0/${a.name}`]);
    const copy = build();
    await copy.setWeights(saved);
    const start = values(a);
    step(o, [[a, [3, 3]]]);
    const want = values(a);
    a.assign(tf.tensor1d(start));
    step(copy, [[a, [3, 3]]]);
    expect(values(a)).toEqual(want);
    o.dispose();
    copy.dispose();
  });

  it('trains and reloads in a tfjs-layers model with its optimizer', async () => {
    // Seeded: an unseeded initialiser draws from Math.random, and some draws start where 6 epochs do not help.
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) })] });
    model.compile({ optimizer: build(), loss: 'meanSquaredError' });
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const y = tf.tensor2d([1, 2, 3], [3, 1]);
    const h = await model.fit(x, y, { epochs: 6, batchSize: 3, verbose: 0 });
    expect(h.history['loss']![5]!).toBeLessThan(h.history['loss']![0] as number);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })), { includeOptimizer: true });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.optimizer).toBeInstanceOf(ChainedOptimizer);
    expect((loaded.optimizer as ChainedOptimizer).after[1]!.skip).toEqual(['dense_Dense1/kernel', 'my_var']);
    expect((loaded.optimizer as ChainedOptimizer).getConfig()).toEqual(JSON.parse(JSON.stringify(model.optimizer.getConfig())));
    tf.dispose([x, y]);
    model.optimizer.dispose();
    loaded.optimizer.dispose();
    model.dispose();
    loaded.dispose();
  });
});

describe('schedules', () => {
  it('give the factors of their optax counterparts (count = step - 1)', () => {
    const at = (s: (step: number) => number, counts: number[]) => counts.map((c) => +s(c + 1).toFixed(6));
    expect(at(schedules.linearWarmup({ steps: 4 }), [0, 1, 2, 4, 9])).toEqual([0, 0.25, 0.5, 1, 1]);
    expect(at(schedules.cosine({ steps: 10, min: 0.1 }), [0, 5, 10, 20])).toEqual([1, 0.55, 0.1, 0.1]);
    expect(at(schedules.step({ every: 3, factor: 0.5 }), [0, 2, 3, 6])).toEqual([1, 1, 0.5, 0.25]);
    expect(at(schedules.exponential({ rate: 0.5, every: 2 }), [0, 1, 2])).toEqual([1, +Math.SQRT1_2.toFixed(6), 0.5]);
    expect(at(schedules.exponential({ rate: 0.5, every: 2, staircase: true }), [1, 2, 3])).toEqual([1, 0.5, 0.5]);
    expect(at(schedules.warmupCosine({ warmupSteps: 2, totalSteps: 12 }), [0, 1, 2, 7, 12])).toEqual([0, 0.5, 1, 0.5, 0]);
    expect(at(schedules.constant(), [0, 100])).toEqual([1, 1]);
  });

  it('rebuild from their config, and reject bad ones in one line', () => {
    const s = schedules.join([schedules.linear({ from: 0.1, to: 1, steps: 5 }), schedules.exponential({ rate: 0.9 })], [5]);
    const copy = schedules.fromConfig(JSON.parse(JSON.stringify(s.config)));
    for (let i = 1; i < 30; i++) expect(copy(i)).toBe(s(i));
    expect(() => schedules.cosine({ steps: 0 })).toThrow("schedules.cosine: 'steps' must be a whole number of steps >= 1, got 0");
    expect(() => schedules.fromConfig({ kind: 'poly' })).toThrow('schedules.fromConfig: unknown kind "poly" (kinds: constant, linear, cosine, step, exponential, join)');
    expect(() => schedules.join([schedules.constant(), (() => 1) as never], [3])).toThrow('schedules.join: every part must be a schedule');
    expect(() => schedules.join([schedules.constant(), schedules.constant()], [])).toThrow('schedules.join: 2 parts need 1 boundaries, got 0');
  });

  it('serialise with an optevo optimizer', () => {
    const o = optimizers.sgd({ learningRate: 0.1 }, { schedule: schedules.step({ every: 2 }) });
    const config = JSON.parse(JSON.stringify(o.getConfig()));
    expect(config.schedule).toEqual({ kind: 'step', every: 2, factor: 0.1 });
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap['OptevoProgramOptimizer']!;
    const copy = fromConfig(cls, config) as unknown as { learningRateAt(step: number): number; dispose(): void };
    [0.1, 0.1, 0.01, 0.001].forEach((lr, i) => expect(copy.learningRateAt([1, 2, 3, 5][i]!)).toBeCloseTo(lr, 12));
    o.dispose();
    copy.dispose();
  });
});
