import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { startSearch } from '../../search/evolution.js';
import { mergeParts } from '../../search/suite-result.js';
import type { EvalJob, SuiteName, SuiteResult } from '../../search/types.js';
import { evaluateJob } from '../../src/evaluate.js';
import { referenceSources } from '../../src/reference.js';
import { seedSource } from '../../seeds/index.js';
import { createRun, fakeExecutor, tempDir, testConfig } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const calibration = referenceSources();
const TASKS: Record<SuiteName, string[]> = { quick: ['q1', 'q2'], standard: ['s1', 's2', 's3'], metaval: ['m1', 'm2', 'm3', 'm4'] };

/** A task's part of a suite: score 0.1 per task index + 1, so the merged mean is known. */
function part(job: EvalJob): SuiteResult {
  const tasks = (job.tasks ?? TASKS[job.suite]).map((task) => {
    const score = job.score === false ? null : (TASKS[job.suite].indexOf(task) + 1) / 10;
    return { task, lr: 0.01, loss: 1, metric: 1, score, curve: [], ms: 2 };
  });
  return { suite: job.suite, fitness: job.score === false ? null : tasks.reduce((s, t) => s + t.score!, 0) / tasks.length, tasks, ms: 2 * tasks.length };
}

describe('heavy suites go to the workers one task per job', () => {
  it('reference, noise and meta-validation runs are split by task, merged as one, with children run between the parts', async () => {
    const store = createRun(dir, testConfig({ budget: 60, metavalEvery: 20, metavalTop: 2, metavalShare: 1 }));
    const ex = fakeExecutor({
      size: 1,
      intercept: (job) => (job.childId === 0 || job.suite === 'metaval' ? { ok: true, result: part(job) } : undefined),
    });
    await startSearch({ store, executor: ex, calibration, suiteTasks: (s) => TASKS[s] }).done;

    // Every reference, twin and meta-validation job names exactly one task of its suite.
    const heavy = ex.jobs.filter((j) => j.childId === 0 || j.suite === 'metaval');
    expect(heavy.length).toBeGreaterThan(0);
    for (const j of heavy) {
      expect(j.tasks).toHaveLength(1);
      expect(TASKS[j.suite]).toContain(j.tasks![0]);
    }
    // The children's own jobs are whole suites.
    expect(ex.jobs.filter((j) => j.childId > 0 && j.suite !== 'metaval').every((j) => j.tasks === undefined)).toBe(true);
    // The stored reference results hold every task, in the suite's order.
    const cal = store.calibration();
    expect(Object.keys(cal.references['standard@1']!)).toEqual(['s1', 's2', 's3']);
    expect(Object.keys(cal.references['quick@1']!)).toEqual(['q1', 'q2']);
    // Meta-validation results are the merged suite: 4 tasks, mean 0.25.
    const validated = store.children().filter((c) => c.metaval !== null && c.metaval !== undefined);
    expect(validated.length).toBeGreaterThan(0);
    for (const c of validated) expect(c.metaval).toBeCloseTo(0.25, 12);
    // Children's jobs ran between the parts of one meta-validation (one worker).
    const first = validated[0]!.id;
    const at = (task: string) => ex.jobs.findIndex((j) => j.suite === 'metaval' && j.childId === first && j.tasks?.[0] === task);
    const between = ex.jobs.slice(at('m1'), at('m4')).filter((j) => j.suite !== 'metaval' && j.childId > 0);
    expect(between.length).toBeGreaterThan(0);
    store.close();
  });

  it("meta-validation runs on the run's metaval suite, with that suite's reference", async () => {
    const store = createRun(dir, testConfig({ budget: 40, suite: 'quick', metavalSuite: 'standard', metavalEvery: 20, metavalTop: 1, metavalShare: 1 }));
    const ex = fakeExecutor({ size: 2, intercept: (job) => (job.childId === 0 || job.tasks ? { ok: true, result: part(job) } : undefined) });
    await startSearch({ store, executor: ex, calibration, suiteTasks: (s) => TASKS[s] }).done;
    const validated = store.children().filter((c) => typeof c.metaval === 'number');
    expect(validated.length).toBeGreaterThan(0);
    for (const c of validated) expect(c.metaval).toBeCloseTo(0.2, 12); // standard: tasks 1..3, mean 0.2
    expect(ex.jobs.some((j) => j.suite === 'metaval')).toBe(false);
    expect(Object.keys(store.calibration().references).sort()).toEqual(['quick@1', 'quick@2', 'quick@3', 'standard@1']);
    store.close();
  });

  it('without the suite list, one job per suite', async () => {
    const store = createRun(dir, testConfig({ budget: 20 }));
    const ex = fakeExecutor({ size: 2, intercept: (job) => (job.childId === 0 ? { ok: true, result: part(job) } : undefined) });
    await startSearch({ store, executor: ex, calibration }).done;
    expect(ex.jobs.every((j) => j.tasks === undefined)).toBe(true);
    store.close();
  });

  it("a suite evaluated task by task and merged is the whole suite's result, failures included", async () => {
    const adamw = seedSource('adamw');
    const job: EvalJob = { childId: 1, source: adamw, suite: 'quick', seed: 3, lrs: [1e-3, 1e-2], steps: 20 };
    const whole = await evaluateJob(job, 'cpu');
    const names = whole.tasks.map((t) => t.task);
    const parts = [];
    for (const t of names) parts.push(await evaluateJob({ ...job, tasks: [t] }, 'cpu'));
    const merged = mergeParts('quick', parts);
    const strip = (r: SuiteResult) => ({ ...r, ms: 0, tasks: r.tasks.map((t) => ({ ...t, ms: 0 })) });
    expect(strip(merged)).toEqual(strip(whole));

    const bad = { ...job, source: 'def train(w, g, lr):\n  update = g / 0\n  return update\n' };
    const wholeBad = await evaluateJob(bad, 'cpu');
    const mergedBad = mergeParts('quick', await Promise.all(names.map((t) => evaluateJob({ ...bad, tasks: [t] }, 'cpu'))));
    expect(wholeBad.fitness).toBeNull();
    expect(mergedBad.fitness).toBeNull();
    expect(mergedBad.failure).toBe(wholeBad.failure);
  });

  it('a task outside the suite is refused', async () => {
    await expect(evaluateJob({ childId: 1, source: seedSource('sgd'), suite: 'quick', seed: 0, lrs: [0.01], steps: 2, tasks: ['mnist-cnn'] }, 'cpu')).rejects.toThrow(
      /task 'mnist-cnn' is not in the quick suite/,
    );
  });
});
