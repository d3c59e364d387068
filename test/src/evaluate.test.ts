import { describe, expect, it } from 'vitest';
import { parse } from '../../dsl/parse.js';
import { seedProgram, seedSource } from '../../seeds/index.js';
import { FAILED_SCORE, SCORE_BOUND, clearReferenceCache, evaluate, evaluateJob, normalisedScore, referenceResults, refinedRates, smoothBound } from '../../src/evaluate.js';

const quickFast = { suite: 'quick' as const, steps: 20, lrs: [1e-3, 1e-2, 1e-1], backend: 'wasm' as const };

describe('normalised score', () => {
  it('is the smoothly bounded log ratio of losses against the reference, with a floor', () => {
    const r = Math.log(2);
    expect(normalisedScore(1, 1, 0)).toBe(0);
    expect(normalisedScore(0.5, 1, 0)).toBeCloseTo(r / Math.sqrt(1 + (r / 3) ** 2), 9);
    expect(normalisedScore(2, 1, 0)).toBeCloseTo(-r / Math.sqrt(1 + (r / 3) ** 2), 9);
    // Far from AdamW the score bends towards the bound but keeps ranking: 100x and 1000x worse differ.
    expect(normalisedScore(100, 1, 0)).toBeCloseTo(-2.514, 3);
    expect(normalisedScore(1000, 1, 0)).toBeCloseTo(-2.752, 3);
    expect(normalisedScore(1e-9, 1, 0)).toBeLessThan(SCORE_BOUND);
    expect(normalisedScore(1e-9, 1, 0)).toBeGreaterThan(normalisedScore(1e-6, 1, 0));
    expect(normalisedScore(1e-9, 1e-7, 1e-4)).toBeCloseTo(0, 2); // both under the floor: equal
    expect(normalisedScore(null, 1, 0)).toBe(FAILED_SCORE);
    expect(normalisedScore(1, null, 0)).toBe(SCORE_BOUND);
  });

  it('the bound is smooth: slope 1 at 0, odd, increasing, inside (-3, 3)', () => {
    expect(smoothBound(0)).toBe(0);
    expect(smoothBound(1e-6)).toBeCloseTo(1e-6, 15);
    expect(smoothBound(-5)).toBe(-smoothBound(5));
    expect(smoothBound(Infinity)).toBe(3);
    let prev = -Infinity;
    for (let r = -50; r <= 50; r += 0.5) {
      const s = smoothBound(r);
      expect(s).toBeGreaterThan(prev);
      expect(Math.abs(s)).toBeLessThan(3);
      prev = s;
    }
  });
});

describe('programs that ignore lr', () => {
  it('train one rate: every rate of a sweep would train the same run', async () => {
    const fixed = await evaluate(parse('def train(w, g, lr):\n  return g * 0.01\n'), { ...quickFast, tasks: ['quadratic'] });
    expect(fixed.tasks[0]!.runs.map((r) => r.lr)).toEqual([1e-3]);
    const swept = await evaluate(parse('def train(w, g, lr):\n  return g * lr\n'), { ...quickFast, tasks: ['quadratic'] });
    expect(swept.tasks[0]!.runs.length).toBe(5);
  });
});

describe('reference results computed once', () => {
  it('a job scores against the reference results it is given, without training the reference', async () => {
    const base = { childId: 1, suite: 'quick' as const, seed: 3, lrs: [1e-2, 1e-1], steps: 15 };
    clearReferenceCache();
    const ref = await evaluateJob({ ...base, source: seedSource('adamw'), score: false }, 'wasm');
    expect(ref.tasks.every((t) => t.score === null && t.loss !== null)).toBe(true);
    const references = referenceResults(ref);
    clearReferenceCache();
    const given = await evaluate(seedProgram('lion'), { suite: 'quick', seed: 3, lrs: [1e-2, 1e-1], steps: 15, backend: 'wasm', references });
    expect(given.tasks.every((t) => t.timings.referenceMs === 0)).toBe(true);
    clearReferenceCache();
    const computed = await evaluate(seedProgram('lion'), { suite: 'quick', seed: 3, lrs: [1e-2, 1e-1], steps: 15, backend: 'wasm' });
    expect(given.tasks.map((t) => t.score)).toEqual(computed.tasks.map((t) => t.score));
    expect(given.fitness).toBe(computed.fitness);
  });
});

describe('sweep refinement', () => {
  it('adds the rates halfway to each neighbour of the best, and beyond an edge', () => {
    const grid = [1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2, 3.16e-2, 1e-1, 3.16e-1];
    expect(refinedRates(grid, 1e-2)).toEqual([0.00562, 0.0178]);
    expect(refinedRates(grid, 3.16e-1)).toEqual([0.178, 0.562]);
    expect(refinedRates(grid, 1e-4)).toEqual([0.0000563, 0.000178]);
    expect(refinedRates([0.01], 0.01)).toEqual([]);
    expect(refinedRates([0.1, 0.01], 0.1)).toEqual([0.0316, 0.316]);
  });
});

describe('evaluate', () => {
  it('AdamW scores 0 against itself on every task', async () => {
    const e = await evaluate(seedProgram('adamw'), quickFast);
    expect(e.suite).toBe('quick');
    expect(e.backend).toBe('wasm');
    expect(e.tasks.map((t) => t.task)).toEqual(['quadratic', 'rosenbrock', 'sparse-logistic', 'mnist8-mlp']);
    for (const t of e.tasks) {
      expect(t.score, t.task).toBe(0);
      expect(t.reference!.lr).toBe(t.lr);
      // Three grid rates, then two around the best.
      expect(t.runs.length).toBe(5);
      expect(t.curve.length).toBeGreaterThan(0);
      expect(t.timings.trainMs).toBeGreaterThan(0);
    }
    expect(e.fitness).toBe(0);
  });

  it('gives the same numbers, bit for bit, for the same inputs', async () => {
    const a = await evaluate(seedProgram('lion'), quickFast);
    const b = await evaluate(seedSource('lion'), quickFast);
    const strip = (x: typeof a) => x.tasks.map((t) => ({ lr: t.lr, loss: t.loss, metric: t.metric, score: t.score, curve: t.curve, runs: t.runs }));
    expect(strip(b)).toEqual(strip(a));
    expect(b.fitness).toBe(a.fitness);
    // A different seed gives different numbers.
    const c = await evaluate(seedProgram('lion'), { ...quickFast, seed: 1 });
    expect(c.tasks[3]!.loss).not.toBe(a.tasks[3]!.loss);
  });

  it('batched and separate sweeps agree', async () => {
    const opts = { tasks: ['mnist8-mlp', 'teacher-student'], steps: 10, lrs: [1e-3, 1e-2], backend: 'wasm' as const, reference: false };
    const a = await evaluate(seedProgram('nesterov'), opts);
    const b = await evaluate(seedProgram('nesterov'), { ...opts, batch: false });
    expect(a.tasks.map((t) => t.batched)).toEqual([true, true]);
    expect(b.tasks.map((t) => t.batched)).toEqual([false, false]);
    a.tasks.forEach((t, i) => expect(Math.abs(t.loss! - b.tasks[i]!.loss!)).toBeLessThan(1e-4));
  });

  it('a program that blows up fails every task with a reason, and its fitness is null', async () => {
    const boom = parse('def train(w, g, lr):\n  return (g * 1e30 + w * 1e30) * lr\n');
    const e = await evaluate(boom, quickFast);
    expect(e.fitness).toBeNull();
    expect(e.failure).toMatch(/^failed every task: every rate failed \(at lr 0.001: (NaN|infinite|diverged)/);
    for (const t of e.tasks) {
      expect(t.score).toBe(FAILED_SCORE);
      expect(t.loss).toBeNull();
      expect(t.failure).toMatch(/^every rate failed/);
    }
  });

  it('failed tasks count with the penalty in the fitness', async () => {
    // Fine on the quadratic, but rosenbrock's steep walls make the huge rates blow up.
    const e = await evaluate(seedProgram('sgd'), { tasks: ['quadratic', 'rosenbrock'], steps: 30, lrs: [0.5, 1], backend: 'wasm' });
    const rosen = e.tasks[1]!;
    expect(rosen.failure).toMatch(/^every rate failed/);
    expect(e.fitness).toBeCloseTo((e.tasks[0]!.score! + FAILED_SCORE) / 2, 12);
  });

  it('trainer options: PCA whitening where it applies, schedules, initialisation, batching', async () => {
    const base = { tasks: ['teacher-student', 'tiny-lm'], steps: 10, lrs: [1e-2], backend: 'wasm' as const, reference: false };
    const plain = await evaluate(seedProgram('adam'), base);
    const white = await evaluate(seedProgram('adam'), { ...base, whiten: true });
    expect(white.tasks[0]!.note).toBe('inputs PCA-whitened');
    expect(white.tasks[0]!.loss).not.toBe(plain.tasks[0]!.loss);
    expect(white.tasks[1]!.note).toBe('not whitened: inputs are token ids');
    expect(white.tasks[1]!.loss).toBe(plain.tasks[1]!.loss);
    const other = await evaluate(seedProgram('adam'), {
      ...base,
      schedule: { kind: 'cosine', warmup: 3 },
      init: { kind: 'fan-in', gain: 2 },
      batching: 'online',
    });
    for (const t of other.tasks) expect(t.loss).not.toBe(plain.tasks.find((p) => p.task === t.task)!.loss);
  });

  it('serves the search executor: evaluateJob returns a SuiteResult', async () => {
    const r = await evaluateJob({ childId: 1, source: seedSource('sgd'), suite: 'quick', seed: 0, lrs: [1e-2, 1e-1], steps: 10 }, 'wasm');
    expect(r.suite).toBe('quick');
    expect(r.tasks.length).toBe(4);
    expect(Object.keys(r.tasks[3]!).sort()).toEqual(['batched', 'curve', 'loss', 'lr', 'metric', 'ms', 'score', 'task'].concat(r.tasks[3]!.plateauAt !== undefined ? ['plateauAt'] : []).sort());
    // What fails outside the program's training is the surroundings' fault: a rejection
    // (the executor's failed evaluation), never a score for the program.
    await expect(evaluateJob({ childId: 2, source: 'def train(w, g, lr):\n  return q\n', suite: 'quick', seed: 0, lrs: [1e-2] }, 'wasm')).rejects.toThrow(/q/);
  });
});
