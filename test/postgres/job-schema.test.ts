import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { startSearch } from '../../search/evolution.js';
import { JobPayloadSchema, type JobPayload } from '../../search/postgres/queue.js';
import type { EvalJob } from '../../search/types.js';
import { OPTEVO_VERSION } from '../../search/version.js';
import { referenceSources } from '../../src/reference.js';
import { createRun, fakeExecutor, tempDir, testConfig } from '../search/helpers.js';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the jobs a search sends are jobs a worker accepts', () => {
  // The workers validate payloads against a strict schema: a job it rejects fails on every worker and
  // the run waits out its lease. So it was with the references (child 0) and with `urgent` and `limitMs`.
  it('references one task per job, children, re-evaluations and meta-validation all pass the workers’ schema', async () => {
    dir = tempDir();
    const ex = fakeExecutor({ size: 2 });
    const store = createRun(dir, testConfig({ budget: 40, metavalEvery: 10, metavalTop: 2 }));
    const h = startSearch({ store, executor: ex, calibration: referenceSources(), suiteTasks: () => ['quadratic', 'rosenbrock'] });
    await h.done;
    store.close();
    const wrap = (job: EvalJob): JobPayload => ({
      v: 1,
      run: 'run',
      runId: 1,
      attempt: 1,
      timeoutMs: 1000,
      requirements: { optevo: OPTEVO_VERSION, backend: 'cpu', tasksModule: null },
      job,
    });
    const kinds = new Set(ex.jobs.map((j) => [j.childId === 0 ? 'reference' : 'child', j.suite, j.tasks ? 'part' : 'whole', j.urgent ? 'urgent' : ''].join(' ')));
    // The search sent every kind of job this test is about.
    expect([...kinds].some((k) => k.startsWith('reference') && k.includes('part'))).toBe(true);
    expect([...kinds].some((k) => k.startsWith('child') && k.includes('urgent'))).toBe(true);
    expect([...kinds].some((k) => k.includes('metaval'))).toBe(true);
    const rejected = ex.jobs.map((j) => JobPayloadSchema.safeParse(wrap(j))).filter((r) => !r.success);
    expect([...new Set(rejected.map((r) => JSON.stringify(r.error?.issues[0])))]).toEqual([]);
  });
});
