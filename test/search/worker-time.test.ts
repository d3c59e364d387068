import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { startSearch } from '../../search/evolution.js';
import type { SqliteRunStore } from '../../search/store.js';
import type { EvalJob, EvalOutcome, Executor, SuiteResult } from '../../search/types.js';
import { referenceSources } from '../../src/reference.js';
import { createRun, quadraticFitness, tempDir, testConfig } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function result(job: EvalJob, ms: number): SuiteResult {
  const { fitness, failure } = quadraticFitness(job.source, 10);
  return { suite: job.suite, fitness, ms, tasks: [], ...(failure ? { failure } : {}) };
}

describe('--time ends gracefully', () => {
  it('at the deadline, what runs finishes, is committed and counts; what waits is cancelled; nothing new starts', async () => {
    // One worker whose jobs finish only when the test says so: the deadline always falls while child 1 runs.
    const started: EvalJob[] = [];
    const queue: ((go: boolean) => void)[] = [];
    let busy = 0;
    let release: (() => void) | null = null;
    let cancelled = 0;
    const ex: Executor = {
      size: 1,
      busy: () => busy,
      async evaluate(job): Promise<EvalOutcome> {
        if (busy >= 1 && !(await new Promise<boolean>((r) => queue.push(r)))) return { ok: false, reason: 'cancelled', cancelled: true };
        busy++;
        started.push(job);
        await new Promise<void>((r) => (release = r));
        busy--;
        queue.shift()?.(true);
        return { ok: true, result: result(job, 7) };
      },
      cancelQueued() {
        cancelled += queue.length;
        for (const w of queue.splice(0)) w(false);
        // The deadline has passed: let the running job finish.
        setTimeout(() => release?.(), 20);
      },
      async close() {},
    };
    const store = createRun(dir, testConfig({ budget: 100, time: 50, suite: 'quick', seeds: ['adamw', 'sgd'] }));
    const events: string[] = [];
    const h = startSearch({ store, executor: ex });
    h.subscribe((e) => events.push(e.type === 'done' ? `done:${e.reason}` : e.type));
    await h.done;
    // Child 1 was running at the deadline: it finished and was committed; child 2 waited and was cancelled.
    expect(started.map((j) => j.childId)).toEqual([1]);
    expect(cancelled).toBe(1);
    expect(store.counters().committed).toBe(1);
    expect(store.child(1)!.status).toBe('ok');
    expect(store.counters().workerTime.novel).toBe(7);
    expect(events.at(-1)).toBe('done:time');
    store.close();
  });
});

describe('--time does not wait for references', () => {
  it('abandons a reference job running at the deadline, booking the time it ran as reference time', async () => {
    const jobs: EvalJob[] = [];
    const ex: Executor = {
      size: 1,
      busy: () => jobs.length,
      // Nothing ever finishes: the run must end all the same.
      evaluate: (job) => {
        jobs.push(job);
        return new Promise<EvalOutcome>(() => {});
      },
      inProgress: () => jobs.slice(0, 1).map((j) => ({ childId: j.childId, suite: j.suite, task: null, lrs: [], step: 0, steps: 0, ms: 123 })),
      cancelQueued() {},
      async close() {},
    };
    const store = createRun(dir, testConfig({ budget: 100, time: 50, suite: 'quick' }));
    const events: string[] = [];
    const h = startSearch({ store, executor: ex, calibration: referenceSources() });
    h.subscribe((e) => events.push(e.type === 'done' ? `done:${e.reason}` : e.type));
    await h.done;
    expect(jobs[0]).toMatchObject({ childId: 0, suite: 'quick', score: false, urgent: true });
    expect(events.at(-1)).toBe('done:time');
    expect(store.counters().committed).toBe(0);
    expect(store.counters().workerTime).toMatchObject({ reference: 123, novel: 0, metaval: 0 });
    store.close();
  });
});

describe('meta-validation within its share', () => {
  it('never takes more than --metaval-share of the workers, its reference included, once its length is known', async () => {
    // One worker on a virtual clock: each job moves it by the job's length, so the capacity is exactly the work done.
    let t = 0;
    const share = 0.2;
    const LENGTH: Record<string, number> = { quick: 10, standard: 40, metaval: 400 };
    const seen: { suite: string; reference: boolean; metaval: number; capacity: number; judged: number }[] = [];
    let queueTail: Promise<void> = Promise.resolve();
    let h: ReturnType<typeof startSearch> | null = null;
    const ex: Executor = {
      size: 1,
      busy: () => 0,
      evaluate(job): Promise<EvalOutcome> {
        const turn = queueTail.then(async () => {
          const { workerTime, judged } = h!.stats();
          const wt = workerTime!;
          seen.push({ suite: job.suite, reference: job.score === false, metaval: wt.metaval, capacity: wt.capacity, judged });
          await new Promise((r) => setImmediate(r));
          t += LENGTH[job.suite]!;
          return { ok: true as const, result: result(job, LENGTH[job.suite]!) };
        });
        queueTail = turn.then(() => undefined);
        return turn;
      },
      async close() {},
    };
    const store = createRun(dir, testConfig({ budget: 400, metavalEvery: 10, metavalTop: 3, metavalShare: share, hurdle: 0 }));
    h = startSearch({ store, executor: ex, calibration: referenceSources(), now: () => t });
    await h.done;
    const metavalJobs = seen.filter((s) => s.suite === 'metaval');
    expect(metavalJobs.length).toBeGreaterThan(2);
    // The reference's results on the meta-validation suite are meta-validation's time.
    expect(metavalJobs[0]!.reference).toBe(true);
    const wt = store.counters().workerTime;
    expect(wt.reference).toBe(10 + 3 * 40 + 3 * 40); // quick@1, standard@1..3, the twin on 3 seeds
    expect(wt.metaval).toBe(metavalJobs.length * 400);
    // Every meta-validation after the first (whose length nobody knew) ends within the share, until the
    // budget's children are all judged (then nothing else wants the worker).
    const during = metavalJobs.slice(1).filter((s) => s.judged < 400);
    expect(during.length).toBeGreaterThan(1);
    for (const s of during) expect(s.metaval + 400).toBeLessThanOrEqual(share * (s.capacity + 400));
    store.close();
  });
});

describe('meta-validation that cannot fit in --time', () => {
  async function timedRun(time: number, LENGTH: Record<string, number>, resume?: SqliteRunStore) {
    let t = 0;
    const limits: (number | undefined)[] = [];
    let queueTail: Promise<void> = Promise.resolve();
    const ex: Executor = {
      size: 1,
      busy: () => 0,
      evaluate(job): Promise<EvalOutcome> {
        const turn = queueTail.then(async (): Promise<EvalOutcome> => {
          await new Promise((r) => setImmediate(r));
          if (job.suite === 'metaval') limits.push(job.limitMs);
          const length = LENGTH[job.suite]!;
          if (job.limitMs !== undefined && length > job.limitMs) {
            t += job.limitMs;
            return { ok: false, reason: `timed out after ${job.limitMs / 1000} s`, timedOut: true, ms: job.limitMs };
          }
          t += length;
          return { ok: true, result: result(job, length) };
        });
        queueTail = turn.then(() => undefined);
        return turn;
      },
      async close() {},
    };
    const store = resume ?? createRun(dir, testConfig({ budget: 300, time, metavalEvery: 10, metavalTop: 2, metavalShare: 0.2, hurdle: 0 }));
    const lines: string[] = [];
    const h = startSearch({ store, executor: ex, calibration: referenceSources(), now: () => t });
    h.subscribe((e) => {
      if (e.type === 'log') lines.push(e.message);
    });
    await h.done;
    return { store, lines, limits };
  }

  it('runs at most what is left of its share, then stops for the session with one line, its requests pending', async () => {
    // 10 s of worker time at most on meta-validation (20% of 50 s); no run ever reaches the deadline on this clock.
    const { store, lines, limits } = await timedRun(50_000, { quick: 10, standard: 40, metaval: 1_000_000 });
    // One job on the held-out suite, AdamW's, cut at the share; then none.
    expect(limits.length).toBe(1);
    expect(limits[0]!).toBeLessThanOrEqual(10_000);
    expect(store.counters().workerTime.metaval).toBe(limits[0]);
    expect(lines.filter((l) => l.startsWith('meta-validation stops for this session'))).toHaveLength(1);
    expect(store.pendingMetaval().length).toBeGreaterThan(0);
    // The reference's cut-off length is stored: a resume with a little more time does not try again.
    expect(store.calibration().ms!['metaval@1']).toBe(limits[0]);
    store.setBudget(400);
    store.setTimeBudget(60_000);
    const again = await timedRun(60_000, { quick: 10, standard: 40, metaval: 1_000_000 }, store);
    expect(again.limits).toEqual([]);
    expect(again.lines.filter((l) => l.startsWith('meta-validation stops for this session'))).toHaveLength(1);
    store.close();
  });

  it('does not start one that its first guess says cannot fit (6 times the standard reference)', async () => {
    // 1 s of worker time for meta-validation; the standard suite's reference takes 400 ms: about 2.4 s on the held-out suite.
    const { store, lines, limits } = await timedRun(5_000, { quick: 10, standard: 400, metaval: 100 });
    expect(limits).toEqual([]);
    expect(store.counters().workerTime.metaval).toBe(0);
    expect(lines.filter((l) => l.startsWith('meta-validation stops for this session'))).toEqual([
      expect.stringContaining('is less than one evaluation on the held-out suite (about 2 s)'),
    ]);
    store.close();
  });
});
