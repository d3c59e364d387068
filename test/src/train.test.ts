import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../dsl/parse.js';
import { seedProgram } from '../../seeds/index.js';
import { initBackend } from '../../src/backend.js';
import { rng } from '../../src/data/rng.js';
import { defineTask } from '../../src/tasks/define.js';
import { builtinTask } from '../../src/tasks/registry.js';
import type { TfTask } from '../../src/tasks/types.js';
import { batchPlan } from '../../src/train/batches.js';
import { fans, initValues, parseInit } from '../../src/train/init.js';
import { DEFAULT_MONITOR, Monitor } from '../../src/train/monitor.js';
import { parseSchedule, scheduleFactor } from '../../src/train/schedule.js';
import type { TrainSettings } from '../../src/train/settings.js';
import { trainTfTask } from '../../src/train/tf-trainer.js';

describe('initialisation', () => {
  const stats = (a: Float32Array) => {
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    return { mean, sd, max: Math.max(...a.map(Math.abs)) };
  };
  it('Xavier-Glorot uniform stays within gain * sqrt(6 / (in + out))', () => {
    const v = initValues([200, 100], { kind: 'glorot-uniform', gain: 2 }, rng('i'));
    const a = 2 * Math.sqrt(6 / 300);
    const s = stats(v);
    expect(s.max).toBeLessThanOrEqual(a);
    expect(s.max).toBeGreaterThan(0.99 * a);
    expect(s.sd).toBeCloseTo(a / Math.sqrt(3), 2);
  });
  it('Xavier-Glorot normal has standard deviation gain * sqrt(2 / (in + out))', () => {
    const s = stats(initValues([300, 200], { kind: 'glorot-normal', gain: 1.5 }, rng('i')));
    expect(s.sd).toBeCloseTo(1.5 * Math.sqrt(2 / 500), 3);
    expect(Math.abs(s.mean)).toBeLessThan(1e-3);
  });
  it('the fan-in rule has standard deviation gain / sqrt(in)', () => {
    const s = stats(initValues([400, 50], { kind: 'fan-in' }, rng('i')));
    expect(s.sd).toBeCloseTo(1 / 20, 3);
  });
  it('counts the receptive field of convolution filters', () => {
    expect(fans([5, 5, 1, 8])).toEqual({ fanIn: 25, fanOut: 200 });
  });
  it('parses rules with a gain', () => {
    expect(parseInit('glorot-normal:2')).toEqual({ kind: 'glorot-normal', gain: 2 });
    expect(() => parseInit('he')).toThrow(/unknown initialisation/);
  });
});

describe('schedules', () => {
  it('give exact factors', () => {
    expect([1, 50, 100].map((t) => scheduleFactor({ kind: 'constant' }, t, 100))).toEqual([1, 1, 1]);
    expect([1, 10, 11, 21].map((t) => scheduleFactor({ kind: 'step', every: 10, factor: 0.5 }, t, 100))).toEqual([1, 1, 0.5, 0.25]);
    expect(scheduleFactor({ kind: 'cosine' }, 1, 101)).toBe(1);
    expect(scheduleFactor({ kind: 'cosine' }, 51, 101)).toBeCloseTo(0.5, 12);
    expect(scheduleFactor({ kind: 'cosine', final: 0.1 }, 101, 101)).toBeCloseTo(0.1, 12);
    expect([1, 5, 10, 11].map((t) => scheduleFactor({ kind: 'constant', warmup: 10 }, t, 100))).toEqual([0.1, 0.5, 1, 1]);
  });
  it('parse from text', () => {
    expect(parseSchedule('cosine:0.1+warmup:5')).toEqual({ kind: 'cosine', final: 0.1, warmup: 5 });
    expect(parseSchedule('step:100:0.3')).toEqual({ kind: 'step', every: 100, factor: 0.3 });
    expect(() => parseSchedule('linear')).toThrow(/unknown schedule/);
  });
});

describe('batches', () => {
  it('full, mini (fresh permutation per epoch) and online', () => {
    expect(batchPlan('full', 10, 4, rng('b')).next()).toBeNull();
    const mini = batchPlan('mini', 10, 4, rng('b'));
    const a = mini.next()!;
    const b = mini.next()!;
    expect(a.length).toBe(4);
    expect(new Set([...a, ...b]).size).toBe(8);
    expect(mini.next()!.length).toBe(4); // the remainder of 2 is dropped; a new epoch starts
    expect(batchPlan('online', 10, 4, rng('b')).next()!.length).toBe(1);
  });
});

describe('monitor', () => {
  const mon = (steps = 100) => new Monitor({ steps, ...DEFAULT_MONITOR });
  it('stops at a NaN or an infinity, with the reason', () => {
    const m = mon();
    expect(m.record(1, 2)).toBe(true);
    expect(m.record(2, NaN)).toBe(false);
    expect(m.failure).toBe('NaN loss at step 2');
    const n = mon();
    n.record(1, 2);
    n.record(2, Infinity);
    expect(n.failure).toBe('infinite loss at step 2');
  });
  it('stops when the loss climbs far above its start', () => {
    const m = mon();
    m.record(1, 2);
    expect(m.record(2, 150)).toBe(true);
    expect(m.record(3, 250)).toBe(false);
    expect(m.failure).toMatch(/^diverged at step 3: loss 250.0 from 2.000/);
  });
  it('notes a plateau where progress stopped', () => {
    const m = mon(200);
    for (let t = 1; t <= 200; t++) m.record(t, t <= 50 ? 10 / t : 0.2);
    expect(m.plateauAt).toBeGreaterThan(40);
    expect(m.plateauAt).toBeLessThanOrEqual(90);
    expect(m.failed).toBe(false);
    expect(m.curve.length).toBe(51); // every 4th step, and the last
  });
});

describe('stacked replicas agree with separate runs', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    await tf.setBackend('wasm');
  });
  const settings = (steps: number): TrainSettings => ({
    seed: 3,
    steps,
    batchSize: 16,
    batching: 'mini',
    schedule: { kind: 'cosine', warmup: 2 },
    monitor: DEFAULT_MONITOR,
  });
  const compare = async (task: TfTask, source: string | null, lrs: number[], steps: number) => {
    const program = source ? parse(source) : seedProgram('adamw');
    const ds = task.data(3);
    const before = tf.memory().numTensors;
    const a = await trainTfTask(tf, task, ds, program, lrs, settings(steps), 'batched', true);
    const b = await trainTfTask(tf, task, ds, program, lrs, settings(steps), 'separate');
    expect(tf.memory().numTensors).toBe(before);
    expect(a.batched).toBe(true);
    expect(b.batched).toBe(false);
    for (let k = 0; k < lrs.length; k++) {
      const ra = a.runs[k]!;
      const rb = b.runs[k]!;
      expect(ra.failure).toBe(rb.failure);
      if (ra.loss === null) continue;
      expect(Math.abs(ra.loss - rb.loss!)).toBeLessThan(1e-4 * Math.max(1, rb.loss!));
      expect(ra.curve.length).toBe(rb.curve.length);
      ra.curve.forEach((v, i) => expect(Math.abs(v - rb.curve[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(rb.curve[i]!))));
    }
    return { a, b };
  };

  it('MLP with AdamW over 4 rates', async () => {
    const { a } = await compare(builtinTask('mnist8-mlp') as TfTask, null, [1e-3, 1e-2, 3e-2, 0.1], 12);
    // Different rates give different results.
    expect(new Set(a.runs.map((r) => r.loss)).size).toBe(4);
  });

  it('per-replica reductions: norm, dot, global norm and clipping', async () => {
    const src = `
def train(w, g, m, lr):
  m = 0.9 * m + g
  u = clip(m, 0.5) + g * dot(g, m) / (norm(g) * norm(m) + 1e-8) + g / (global_norm(g) + 1e-8)
  return lr * u, m
`;
    await compare(builtinTask('teacher-student') as TfTask, src, [3e-3, 3e-2, 0.3], 10);
  });

  it('CNN and the language model (patch and one-hot matmuls with their own gradients)', async () => {
    await compare(builtinTask('mnist-cnn') as TfTask, null, [1e-3, 1e-2], 3);
    await compare(builtinTask('tiny-lm') as TfTask, null, [1e-3, 3e-2], 5);
  });

  it('a replica that diverges fails alone, with its reason', async () => {
    const { a } = await compare(builtinTask('teacher-student') as TfTask, 'def train(w, g, lr):\n  return lr * g * 1e6\n', [1e-9, 1e-7, 1], 8);
    expect(a.runs[0]!.failure).toBeUndefined();
    expect(a.runs[2]!.failure).toMatch(/^(diverged|NaN|infinite)/);
    expect(a.runs[2]!.loss).toBeNull();
  });

  it('a model that cannot stack replicas runs separately and says so', async () => {
    const task = defineTask({
      name: 'plain',
      data: { x: Array.from({ length: 80 }, (_, i) => Math.sin(i)), y: Array.from({ length: 40 }, (_, i) => i % 2), xShape: [2], classes: 2 },
      model: {
        params: [{ name: 'w', shape: [2, 2], init: { kind: 'glorot-uniform' } }],
        forward: (t, [w], x) => t.matMul(x as never, w as never),
      },
      steps: 5,
      batchSize: 8,
    });
    const r = await trainTfTask(tf, task, task.data(0), seedProgram('adamw'), [1e-3, 1e-2], settings(5), 'batched');
    expect(r.batched).toBe(false);
    expect(r.note).toBe('model cannot stack replicas: rates ran separately');
    expect(r.runs.every((x) => x.loss !== null)).toBe(true);
  });
});

