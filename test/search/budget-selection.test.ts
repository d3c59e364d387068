import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { startSearch } from '../../search/evolution.js';
import { SqliteRunStore as RunStore } from '../../search/store.js';
import { noiseOf, recommend } from '../../search/selection.js';
import type { SearchEvent } from '../../search/types.js';
import { calibration, createRun, fakeExecutor, tempDir, testConfig, twinIntercept } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const intercept = twinIntercept;

describe('calibration: references once per run, the noise, the lead held on a fresh seed', () => {
  it('computes each reference once, stores it, hands it to every job, and measures the noise', async () => {
    const store = createRun(dir, testConfig({ budget: 40 }));
    const ex = fakeExecutor({ size: 2, intercept });
    const events: SearchEvent[] = [];
    const h = startSearch({ store, executor: ex, calibration });
    h.subscribe((e) => events.push(e));
    await h.done;
    const refJobs = ex.jobs.filter((j) => j.score === false);
    expect(refJobs.map((j) => `${j.suite}@${j.seed}`).sort()).toEqual(['quick@1', 'standard@1', 'standard@2', 'standard@3']);
    expect(refJobs.every((j) => j.source === calibration.reference)).toBe(true);
    const cal = store.calibration();
    expect(Object.keys(cal.references).sort()).toEqual(['quick@1', 'standard@1', 'standard@2', 'standard@3']);
    expect(cal.noise.standard!.samples).toEqual([0.01, -0.02, 0.02]);
    expect(cal.noise.standard!.noise).toBeCloseTo(noiseOf([0.01, -0.02, 0.02]), 12);
    expect(cal.noise.standard!.noise).toBeCloseTo(Math.sqrt((0.0001 + 0.0004 + 0.0004) / 3), 12);
    // Every child's job carries the reference results of its suite and seed.
    const childJobs = ex.jobs.filter((j) => j.childId > 0);
    expect(childJobs.length).toBeGreaterThan(0);
    for (const j of childJobs) expect(j.references, `${j.childId} ${j.suite}@${j.seed}`).toEqual(cal.references[`${j.suite}@${j.seed}`]);
    // Worker time: booked by use.
    const wt = store.counters().workerTime;
    expect(wt.reference).toBe(7); // 4 references + 3 twins, 1 ms each
    expect(wt.novel).toBe(ex.jobs.filter((j) => j.childId > 0 && (j.seed === 1 || j.suite === 'metaval')).length);
    expect(wt.capacity).toBeGreaterThan(0);
    store.close();

    // A resume reads them: no reference job again.
    const again = RunStore.open(store.dir);
    again.setBudget(50);
    const ex2 = fakeExecutor({ size: 2, intercept });
    await startSearch({ store: again, executor: ex2, calibration }).done;
    expect(ex2.jobs.filter((j) => j.score === false || j.source === calibration.twin)).toEqual([]);
    again.close();
  });

  it('a new best beats the held best by more than the noise and holds on a fresh seed', async () => {
    const store = createRun(dir, testConfig({ budget: 120, seed: 4, seeds: ['sgd'] }));
    // Re-evaluations on seed 3 are much worse: children re-evaluated there never lead.
    const ex = fakeExecutor({
      size: 2,
      intercept: (job) => {
        const t = intercept(job);
        if (t) return t;
        return job.seed === 3 && job.score !== false ? { ok: true, result: { suite: job.suite, fitness: -100, ms: 1, tasks: [] } } : undefined;
      },
    });
    await startSearch({ store, executor: ex, calibration }).done;
    const noise = store.calibration().noise.standard!.noise;
    const kids = new Map(store.children().map((c) => [c.id, c]));
    const reevals = ex.jobs.filter((j) => j.childId > 0 && j.seed !== 1 && j.suite === 'standard');
    expect(reevals.length).toBeGreaterThan(0);
    // Fresh seeds 2 and 3, by child id; each re-evaluated child has its result stored.
    for (const j of reevals) {
      expect(j.seed).toBe(2 + (j.childId % 2));
      expect(kids.get(j.childId)!.reeval).not.toBeUndefined();
    }
    // Replay the lead: each new best beat the held best by more than the noise, on both seeds.
    let held: number | null = null;
    let best: number | null = null;
    for (const c of kids.values()) {
      if (c.fitness === null || c.status === 'cached') continue;
      const again = c.reeval?.fitness ?? null;
      const h = again === null ? c.fitness : Math.min(c.fitness, again);
      const eligible = held === null || (c.id > 1 && again !== null && h > held + noise);
      if (eligible) {
        held = h;
        best = c.id;
      }
    }
    expect(store.counters().bestId).toBe(best);
    expect(store.counters().bestHeld).toBe(held);
    // No child re-evaluated on seed 3 leads.
    expect(best === 1 || best! % 2 === 0).toBe(true);
    store.close();
  });
});

describe('--time', () => {
  it('ends the run by its time budget, summed over resumes', async () => {
    const store = createRun(dir, testConfig({ budget: 1_000_000, time: 400 }));
    const ex = fakeExecutor({ size: 2, jitter: 5 });
    const events: SearchEvent[] = [];
    const h = startSearch({ store, executor: ex });
    h.subscribe((e) => events.push(e));
    const t0 = Date.now();
    const stats = await h.done;
    const took = Date.now() - t0;
    expect(events.at(-1)).toMatchObject({ type: 'done', reason: 'time' });
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(3000);
    expect(store.info().status).toBe('done');
    expect(stats.judged).toBeGreaterThan(1);
    const elapsed = store.counters().elapsedMs;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    store.close();

    // Resumed with the same budget: nothing left. With more time: it goes on.
    const again = RunStore.open(store.dir);
    const judged = again.counters().committed;
    const e2: SearchEvent[] = [];
    const h2 = startSearch({ store: again, executor: fakeExecutor({ size: 2 }) });
    h2.subscribe((e) => e2.push(e));
    await h2.done;
    expect(again.counters().committed).toBe(judged);
    expect(e2.at(-1)).toMatchObject({ type: 'done', reason: 'time' });
    again.setTimeBudget(elapsed + 300);
    await startSearch({ store: again, executor: fakeExecutor({ size: 2, jitter: 5 }) }).done;
    expect(again.counters().committed).toBeGreaterThan(judged);
    expect(again.counters().elapsedMs).toBeGreaterThanOrEqual(elapsed + 300);
    again.close();
  });
});

describe('the funnel', () => {
  it("a stored run's funnel ranks by held fitness, looking past the children whose fitness alone is higher", async () => {
    const { recommendation } = await import('../../src/inspect/run-report.js');
    // 20 children: 1..12 score 0.9 on the run's seed but 0.1 on a fresh one; 13 and 14 hold 0.5 and 0.4.
    const kids = Array.from({ length: 20 }, (_, i) => {
      const id = i + 1;
      if (id <= 12) return { id, fitness: 0.9 - id * 1e-3, metaval: 0.5, reeval: { fitness: 0.1 } };
      return { id, fitness: id === 13 ? 0.5 : id === 14 ? 0.4 : 0.01, metaval: id === 14 ? 0.2 : null, reeval: null };
    });
    const reader = {
      config: () => ({ metavalTop: 2 }),
      counters: () => ({ bestId: 13 }),
      leaderboard: (n: number) => [...kids].sort((a, b) => b.fitness - a.fitness || a.id - b.id).slice(0, n),
    } as unknown as Parameters<typeof recommendation>[0];
    expect(recommendation(reader)).toEqual({ id: 14, rule: 'best on meta-validation (1 validated) among the top 2 on held fitness' });
  });

  it('recommends the best on meta-validation among the top K on fitness, else the lead', () => {
    const top = [
      { id: 5, fitness: 0.3, metaval: 0.01 },
      { id: 9, fitness: 0.2, metaval: 0.12 },
      { id: 2, fitness: 0.1, metaval: null },
    ];
    expect(recommend(top, 5, 3)).toEqual({ id: 9, rule: 'best on meta-validation (2 validated) among the top 3 on held fitness' });
    expect(recommend(top.map((t) => ({ ...t, metaval: null })), 5, 3)).toEqual({ id: 5, rule: 'the best on fitness (no meta-validation yet)' });
    expect(recommend([], null, 3)).toBeNull();
  });
});
