import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startSearch } from '../../search/evolution.js';
import { MemoryReferenceCache, referenceJobKey } from '../../search/reference-cache.js';
import type { EvalJob, SuiteResult } from '../../search/types.js';
import { diskReferenceCache } from '../../src/reference-cache.js';
import { calibration, createRun, fakeExecutor, tempDir, testConfig, twinIntercept } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const intercept = twinIntercept;
const calibrationJobs = (jobs: readonly EvalJob[]) => jobs.filter((j) => j.source === calibration.reference || j.source === calibration.twin);
// Two tasks a suite, so that references run one task per job, as heavy suites do.
const suiteTasks = (suite: string) => [`${suite}-a`, `${suite}-b`];

describe("the machine's reference cache", () => {
  it('lets a second run on the machine skip every reference and twin job, part by part, with the same calibration', async () => {
    const cache = new MemoryReferenceCache();
    const first = createRun(path.join(dir, 'a'), testConfig({ budget: 30 }));
    const ex1 = fakeExecutor({ size: 2, intercept });
    await startSearch({ store: first, executor: ex1, calibration, suiteTasks, referenceCache: cache }).done;
    const jobs1 = calibrationJobs(ex1.jobs);
    // quick@1, standard@1..3 references and 3 twins, each in two parts.
    expect(jobs1.length).toBe(14);
    expect(cache.entries.size).toBe(14);
    expect(first.counters().workerTime.reference).toBe(14);

    const second = createRun(path.join(dir, 'b'), testConfig({ budget: 30 }));
    const ex2 = fakeExecutor({ size: 2, intercept });
    await startSearch({ store: second, executor: ex2, calibration, suiteTasks, referenceCache: cache }).done;
    expect(calibrationJobs(ex2.jobs)).toEqual([]);
    expect(second.counters().workerTime.reference).toBe(0);
    expect(second.calibration().references).toEqual(first.calibration().references);
    expect(second.calibration().noise).toEqual(first.calibration().noise);
    // The same run, child for child.
    expect(second.children().map((c) => [c.id, c.source, c.fitness])).toEqual(first.children().map((c) => [c.id, c.source, c.fitness]));

    // A cache missing one part: only that part runs.
    const missing = [...cache.entries.keys()].find((k) => k.includes('"standard-b"') && k.includes('"seed":2') && k.includes('"score":false'))!;
    cache.entries.delete(missing);
    const third = createRun(path.join(dir, 'c'), testConfig({ budget: 30 }));
    const ex3 = fakeExecutor({ size: 2, intercept });
    await startSearch({ store: third, executor: ex3, calibration, suiteTasks, referenceCache: cache }).done;
    expect(calibrationJobs(ex3.jobs).map(referenceJobKey)).toEqual([missing]);
    first.close();
    second.close();
    third.close();
  });

  it('keys a job by what decides its result, not by who asks or how urgently', () => {
    const job: EvalJob = { childId: 0, source: calibration.reference, suite: 'standard', seed: 2, lrs: [], score: false };
    expect(referenceJobKey({ ...job, childId: 9, urgent: true, limitMs: 5 })).toBe(referenceJobKey(job));
    for (const other of [{ seed: 3 }, { lrs: [1] }, { steps: 5 }, { sweep: 'halving' as const }, { tasks: ['a'] }, { source: calibration.twin }, { score: true }])
      expect(referenceJobKey({ ...job, ...other }), JSON.stringify(other)).not.toBe(referenceJobKey(job));
  });

  it('on disk: keeps NaN and infinities, misses for another backend or tasks module, and is off with OPTEVO_CACHE=off', () => {
    const saved = { dir: process.env.OPTEVO_CACHE_DIR, off: process.env.OPTEVO_CACHE };
    process.env.OPTEVO_CACHE_DIR = path.join(dir, 'cache');
    delete process.env.OPTEVO_CACHE;
    try {
      const result: SuiteResult = {
        suite: 'quick',
        fitness: null,
        ms: 12,
        tasks: [{ task: 'quadratic', lr: 0.1, loss: 0.5, metric: null, score: null, curve: [1, NaN, Infinity, 0.5], ms: 12 }],
      };
      const key = referenceJobKey({ childId: 0, source: calibration.reference, suite: 'quick', seed: 1, lrs: [], score: false });
      const wasm = diskReferenceCache({ backend: 'wasm' });
      expect(wasm.get(key)).toBeUndefined();
      wasm.put(key, result);
      expect(diskReferenceCache({ backend: 'wasm' }).get(key)).toEqual(result);
      expect(diskReferenceCache({ backend: 'tensorflow' }).get(key)).toBeUndefined();
      const mod = path.join(dir, 'tasks.js');
      fs.writeFileSync(mod, 'export default []\n');
      expect(diskReferenceCache({ backend: 'wasm', tasksModule: mod }).get(key)).toBeUndefined();
      process.env.OPTEVO_CACHE = 'off';
      expect(diskReferenceCache({ backend: 'wasm' }).get(key)).toBeUndefined();
    } finally {
      if (saved.dir === undefined) delete process.env.OPTEVO_CACHE_DIR;
      else process.env.OPTEVO_CACHE_DIR = saved.dir;
      if (saved.off === undefined) delete process.env.OPTEVO_CACHE;
      else process.env.OPTEVO_CACHE = saved.off;
    }
  });
});
