import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../dsl/parse.js';
import { seedProgram } from '../../seeds/index.js';
import { initBackend } from '../../src/backend.js';
import { builtinTask } from '../../src/tasks/registry.js';
import type { TfTask } from '../../src/tasks/types.js';
import { HALVING, type HalvingRule, rungEnds, survivors } from '../../src/train/halving.js';
import { DEFAULT_MONITOR } from '../../src/train/monitor.js';
import type { TrainSettings } from '../../src/train/settings.js';
import { trainTfTask } from '../../src/train/tf-trainer.js';

describe('the halving rule', () => {
  const rule: HalvingRule = { rungs: [0.25, 0.5], measure: 'loss', margin: 0.1, keep: 2 };

  it('places its rungs at fractions of the steps, never at the end', () => {
    expect(rungEnds(40, 'halving', rule)).toEqual([10, 20, 40]);
    expect(rungEnds(40, 'full', rule)).toEqual([40]);
    expect(rungEnds(2, 'halving', rule)).toEqual([1, 2]);
    expect(rungEnds(1, 'halving', rule)).toEqual([1]);
    expect(rungEnds(80, 'halving', { ...rule, rungs: [0.5, 0.125] })).toEqual([10, 40, 80]);
  });

  it('keeps the best few and every rate within the margin of the best', () => {
    // Best 1.0: within 10% is up to 1.1; the two best always go on.
    const smoothed = [1.0, 1.09, 1.5, 1.11, 3, 1.1];
    expect(survivors([0, 1, 2, 3, 4, 5], smoothed, rule)).toEqual([0, 1, 5]);
    expect(survivors([0, 2, 4], smoothed, rule)).toEqual([0, 2]);
    expect(survivors([2, 4], smoothed, { ...rule, keep: 1 })).toEqual([2]);
    expect(survivors([4], smoothed, rule)).toEqual([4]);
    expect(survivors([], smoothed, rule)).toEqual([]);
  });

  it('ranks a rate without a finite smoothed loss behind every other', () => {
    expect(survivors([0, 1, 2], [NaN, 2, Infinity], { ...rule, keep: 1 })).toEqual([1]);
    expect(survivors([0, 1, 2], [NaN, 2, Infinity], rule)).toEqual([0, 1]);
  });

  it("measures 'loss' from the size of the best loss, negative ones included", () => {
    expect(survivors([0, 1, 2], [-2, -1.9, -1.7], { ...rule, keep: 1 })).toEqual([0, 1]);
  });

  it("measures 'progress' from the best rate's fall below the first loss", () => {
    const progress: HalvingRule = { ...rule, measure: 'progress', margin: 0.5, keep: 1 };
    // First loss 3, best 1: progress 2, so up to 1 + 0.5 * 2 = 2 goes on.
    expect(survivors([0, 1, 2, 3], [1, 2, 2.01, 2.9], progress, 3)).toEqual([0, 1]);
    // Nothing fell below the first loss: only the best go on.
    expect(survivors([0, 1], [3.1, 3.2], progress, 3)).toEqual([0]);
    // Without the first loss, no margin.
    expect(survivors([0, 1], [1, 1.01], progress)).toEqual([0]);
  });

  it('with no margin and one kept, goes on with the best rate alone', () => {
    expect(survivors([3, 1, 2], [0, 5, 5, 4], { rungs: [0.5], measure: 'loss', margin: 0, keep: 1 })).toEqual([3]);
  });

  it('the default rule keeps at least one rate and ranks before the end', () => {
    expect(HALVING.keep).toBeGreaterThanOrEqual(1);
    expect(HALVING.rungs.every((f) => f > 0 && f < 1)).toBe(true);
  });
});

describe('a halving sweep (wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    await tf.setBackend('wasm');
  });
  const settings = (steps: number, extra: Partial<TrainSettings>): TrainSettings => ({
    seed: 1,
    steps,
    batchSize: 16,
    batching: 'mini',
    schedule: { kind: 'constant' },
    monitor: DEFAULT_MONITOR,
    ...extra,
  });
  // SGD whose update explodes at the largest rate; the smallest barely moves.
  const program = parse('def train(w, g, lr):\n  return lr * g\n');
  const lrs = [1e-6, 1e-2, 3e-2, 0.1, 1e4];
  const rule: HalvingRule = { rungs: [0.25, 0.5], measure: 'progress', margin: 0.3, keep: 2 };

  it('stops the diverging and the stalled rates, finishes the best exactly as the full sweep does, stacked or separate', async () => {
    const task = builtinTask('mnist8-mlp') as TfTask;
    const ds = task.data(1);
    const before = tf.memory().numTensors;
    const full = await trainTfTask(tf, task, ds, program, lrs, settings(40, { recordRanking: 8 }), 'batched', true);
    const hb = await trainTfTask(tf, task, ds, program, lrs, settings(40, { sweep: 'halving', halving: rule }), 'batched', true);
    const hs = await trainTfTask(tf, task, ds, program, lrs, settings(40, { sweep: 'halving', halving: rule }), 'separate');
    expect(tf.memory().numTensors).toBe(before);
    const best = full.runs.reduce((a, b) => (b.loss !== null && (a.loss === null || b.loss < a.loss) ? b : a));
    expect(full.runs[4]!.failure).toMatch(/^(diverged|NaN|infinite)/);
    for (const h of [hb, hs]) {
      // The diverging rate fails (it leaves the stack at the first rung), the stalled one is stopped there.
      expect(h.runs[4]!.failure).toMatch(/^(diverged|NaN|infinite)/);
      expect(h.runs[4]!.stoppedAt).toBeUndefined();
      expect(h.runs[0]!.stoppedAt).toBe(10);
      expect(h.runs[0]!.loss).toBeNull();
      const b = h.runs.find((r) => r.lr === best.lr)!;
      expect(b.stoppedAt).toBeUndefined();
      expect(Math.abs(b.loss! - best.loss!)).toBeLessThan(1e-4 * Math.max(1, best.loss!));
    }
    expect(hb.runs.map((r) => r.stoppedAt)).toEqual(hs.runs.map((r) => r.stoppedAt));
  });

  it("a full sweep's recorded ranking tells what halving stops at each rung", async () => {
    const task = builtinTask('mnist8-mlp') as TfTask;
    const ds = task.data(1);
    const adam = seedProgram('adam');
    const rates = [1e-4, 1e-3, 1e-2, 3e-2, 0.1, 1];
    const r2: HalvingRule = { rungs: [0.25, 0.5], measure: 'progress', margin: 0.1, keep: 1 };
    const full = await trainTfTask(tf, task, ds, adam, rates, settings(32, { recordRanking: 8 }), 'batched', true);
    const h = await trainTfTask(tf, task, ds, adam, rates, settings(32, { sweep: 'halving', halving: r2 }), 'batched', true);
    expect(full.runs.every((r) => r.ranking?.map((x) => x.step).join() === '1,4,8,12,16,20,24,28')).toBe(true);
    const at = (i: number, step: number) => full.runs[i]!.ranking!.find((x) => x.step === step)!.smoothed ?? NaN;
    const predicted: (number | undefined)[] = rates.map(() => undefined);
    let running = rates.map((_, i) => i).filter((i) => !Number.isNaN(at(i, 8)));
    for (const end of [8, 16]) {
      const lead = running.reduce((b, i) => (at(i, end) < at(b, end) ? i : b), running[0]!);
      const keep = survivors(running, rates.map((_, i) => at(i, end)), r2, at(lead, 1));
      for (const i of running) if (!keep.includes(i)) predicted[i] = end;
      running = keep;
    }
    expect(h.runs.map((r) => r.stoppedAt)).toEqual(predicted);
    expect(predicted.some((x) => x !== undefined)).toBe(true);
  });
});
