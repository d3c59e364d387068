/**
 * The adapter inside tfjs-layers: `model.compile({ optimizer })` then `fit`
 * trains a small classifier, and the optimizer's state follows the model's
 * weights by name.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../dsl/random.js';
import { ProgramOptimizer } from '../../src/optimizer.js';
import { optimizers } from '../../src/optimizers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Two Gaussian blobs per class, from a seeded stream (no Math.random). */
function blobs(n: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const r = Rng.derive('blobs');
  const normal = () => r.normal();
  const centres = [[2, 2], [-2, -2], [2, -2], [-2, 2]];
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    xs.push(centres[k]![0]! + 0.7 * normal(), centres[k]![1]! + 0.7 * normal());
    ys.push(k < 2 ? 1 : 0, k < 2 ? 0 : 1); // XOR-like: not linearly separable
  }
  return { x: tf.tensor2d(xs, [n, 2]), y: tf.tensor2d(ys, [n, 2]) };
}

function model(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 16, activation: 'tanh', inputShape: [2], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

describe('tfjs-layers', () => {
  it.each([
    ['lion', () => optimizers.lion({ learningRate: 0.01 })],
    ['adam', () => optimizers.adam({ learningRate: 0.05 })],
  ] as const)('model.fit with %s lowers the loss of a small classifier', async (_, make) => {
    const { x, y } = blobs(200);
    const m = model();
    const opt = make();
    m.compile({ optimizer: opt, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const before = (m.evaluate(x, y) as tf.Scalar[]).map((t) => t.dataSync()[0]!);
    const history = await m.fit(x, y, { epochs: 15, batchSize: 50, shuffle: false, verbose: 0 });
    const after = (m.evaluate(x, y) as tf.Scalar[]).map((t) => t.dataSync()[0]!);
    expect(after[0]!).toBeLessThan(before[0]! / 3);
    expect(after[1]!).toBeGreaterThan(0.95);
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    expect(opt.iterations).toBe(15 * 4);
    const names = (await opt.getWeights()).map((w) => w.name);
    expect(names[0]).toBe('iter');
    for (const w of m.trainableWeights) expect(names).toContain(`${w.name}/m`);
    m.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  });
});

describe('model.save / tf.loadLayersModel with includeOptimizer', () => {
  it('restores the optimizer and its state, and training resumes exactly', async () => {
    const { x, y } = blobs(100);
    const m = model();
    const opt = optimizers.adamw({ learningRate: 0.01, weightDecay: 0.05 });
    m.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    await m.fit(x, y, { epochs: 2, batchSize: 50, shuffle: false, verbose: 0 });
    let saved: tf.io.ModelArtifacts | undefined;
    const handler = tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }));
    await m.save(handler, { includeOptimizer: true });
    const state = new Map((await opt.getWeights()).map((s) => [s.name, Array.from(s.tensor.dataSync())]));

    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const o2 = loaded.optimizer as ProgramOptimizer;
    expect(o2).toBeInstanceOf(ProgramOptimizer);
    expect(o2.getConfig()).toEqual(opt.getConfig());
    expect(o2.iterations).toBe(4);
    const restored = await o2.getWeights();
    expect(restored.map((s) => s.name)).toEqual([...state.keys()]);
    for (const s of restored.slice(1)) expect(Array.from(s.tensor.dataSync())).toEqual(state.get(s.name));

    // In this process the loaded model's variables are renamed (`..._1`): the
    // first step hands them the restored state in order, so both continue alike.
    expect(loaded.trainableWeights.map((w) => w.name)).not.toEqual(m.trainableWeights.map((w) => w.name));
    loaded.compile({ optimizer: o2, loss: 'categoricalCrossentropy' });
    await m.fit(x, y, { epochs: 1, batchSize: 50, shuffle: false, verbose: 0 });
    await loaded.fit(x, y, { epochs: 1, batchSize: 50, shuffle: false, verbose: 0 });
    expect(o2.iterations).toBe(6);
    expect((await o2.getWeights()).map((s) => s.name)).toEqual(['iter', ...loaded.trainableWeights.flatMap((w) => [`${w.name}/m`, `${w.name}/v`])]);
    loaded.trainableWeights.forEach((w, i) => expect(Array.from(w.read().dataSync())).toEqual(Array.from(m.trainableWeights[i]!.read().dataSync())));
    m.dispose();
    opt.dispose();
    loaded.dispose();
    o2.dispose();
    tf.dispose([x, y]);
  });
});
