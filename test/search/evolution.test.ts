import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { startSearch } from '../../search/evolution.js';
import { flatten } from '../../dsl/flatten.js';
import { print } from '../../dsl/print.js';
import { withStateSlots } from '../../dsl/state-slots.js';
import { prepare } from '../../search/prepare.js';
import { seedProgram } from '../../seeds/index.js';
import { SqliteRunStore } from '../../search/store.js';
import type { SearchEvent } from '../../search/types.js';
import { createRun, essence, fakeExecutor, tempDir, testConfig } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('evolution', () => {
  it('judges exactly the budget, ids 1..30, seed first, counters consistent', async () => {
    const store = createRun(dir, testConfig({ budget: 30 }));
    const ex = fakeExecutor({ size: 2 });
    const h = startSearch({ store, executor: ex });
    const events: SearchEvent[] = [];
    h.subscribe((e) => events.push(e));
    const stats = await h.done;
    const kids = store.children();
    expect(kids.map((c) => c.id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(kids[0]!.mutation).toBe('seed');
    expect(kids[0]!.status).toBe('ok');
    expect(kids.slice(1).every((c) => c.parent !== null && c.mutation !== 'seed')).toBe(true);
    const by = (s: string) => kids.filter((c) => c.status === s).length;
    const c = store.counters();
    expect(c.committed).toBe(30);
    expect([c.ok, c.pruned, c.cached, c.invalid, c.failed]).toEqual([by('ok'), by('pruned'), by('cached'), by('invalid'), by('failed')]);
    expect(stats.judged).toBe(30);
    expect(events[0]!.type).toBe('start');
    expect(events.filter((e) => e.type === 'child').length).toBe(30);
    expect(events.at(-1)).toMatchObject({ type: 'done', reason: 'budget' });
    expect(store.population().length).toBeLessThanOrEqual(10);
    expect(store.info().status).toBe('done');
    // Each trained child ran the quick suite once; only ok children ran the standard suite.
    const trained = kids.filter((k) => k.status === 'ok' || k.status === 'pruned' || k.status === 'failed');
    expect(ex.jobs.filter((j) => j.suite === 'quick').length).toBe(trained.length);
    expect(ex.jobs.filter((j) => j.suite === 'standard').length).toBe(by('ok'));
    store.close();
  });

  it('gives the same run, child for child, whatever the number of workers and the finishing order', async () => {
    const run = async (name: string, size: number, jitter: number) => {
      const store = createRun(dir, testConfig({ budget: 60, seeds: ['adamw', 'sgd'] }), name);
      // Children finished together are committed in one write: count the writes of more than one.
      let grouped = 0;
      const many = store.commitMany.bind(store);
      store.commitMany = (cs) => {
        if (cs.length > 1) grouped++;
        many(cs);
      };
      await startSearch({ store, executor: fakeExecutor({ size, jitter }) }).done;
      const out = store.children().map(essence);
      const pop = store.population();
      store.close();
      return { out, pop, grouped };
    };
    const a = await run('a', 1, 0);
    const b = await run('b', 4, 5);
    expect(b.out).toEqual(a.out);
    expect(b.pop).toEqual(a.pop);
    expect(a.out.length).toBe(60);
    expect(b.grouped).toBeGreaterThan(0);
  });

  it('never trains a program twice: cached children carry the earlier score', async () => {
    const store = createRun(dir, testConfig({ budget: 80 }));
    const ex = fakeExecutor({ size: 3, jitter: 2 });
    await startSearch({ store, executor: ex }).done;
    const kids = store.children();
    const cached = kids.filter((c) => c.status === 'cached');
    expect(cached.length).toBeGreaterThan(0);
    for (const c of cached) {
      const from = store.child(c.cachedFrom)!;
      expect(from.id).toBeLessThan(c.id);
      expect(c.fitness).toBe(from.fitness);
      expect(c.status === 'cached' && from.status !== 'invalid' && (c.hash === from.hash || c.fingerprint === from.fingerprint)).toBe(true);
    }
    const quickIds = ex.jobs.filter((j) => j.suite === 'quick').map((j) => j.childId);
    expect(new Set(quickIds).size).toBe(quickIds.length);
    const hashes = kids.filter((c) => c.status !== 'cached' && c.status !== 'invalid').map((c) => c.hash);
    expect(new Set(hashes).size).toBe(hashes.length);
    const invalid = kids.filter((c) => c.status === 'invalid');
    for (const c of invalid) expect(c.failure).toBeTruthy();
    store.close();
  });

  it('stops on request and resumes to exactly the uninterrupted run', async () => {
    const cfg = testConfig({ budget: 50, metavalEvery: 10, metavalTop: 2 });
    const full = createRun(dir, cfg, 'full');
    await startSearch({ store: full, executor: fakeExecutor({ size: 2 }) }).done;
    const want = full.children().map(essence);
    const wantMeta = full.metavalResults().map((m) => [m.id, m.requestedAt, m.fitness]);
    full.close();

    const part = createRun(dir, cfg, 'part');
    const h = startSearch({ store: part, executor: fakeExecutor({ size: 2, jitter: 3 }) });
    h.subscribe((e) => {
      if (e.type === 'child' && e.child.id === 17) void h.stop();
    });
    const s1 = await h.done;
    expect(s1.judged).toBeGreaterThanOrEqual(17);
    expect(s1.judged).toBeLessThan(50);
    expect(part.info().status).toBe('stopped');
    part.close();

    const again = SqliteRunStore.open(`${dir}/part`);
    await startSearch({ store: again, executor: fakeExecutor({ size: 3, jitter: 3 }) }).done;
    expect(again.children().map(essence)).toEqual(want);
    expect(again.metavalResults().map((m) => [m.id, m.requestedAt, m.fitness])).toEqual(wantMeta);
    expect(again.info().status).toBe('done');
    again.close();
  });

  it('hurdle: children below the population percentile stop after the quick suite', async () => {
    const store = createRun(dir, testConfig({ budget: 60, hurdle: 0.9 }));
    const ex = fakeExecutor();
    await startSearch({ store, executor: ex }).done;
    const kids = store.children();
    const pruned = kids.filter((c) => c.status === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    for (const c of pruned) {
      expect(c.standard).toBeNull();
      expect(c.quick.fitness).not.toBeNull();
    }
    for (const c of kids.filter((k) => k.status === 'ok')) expect(c.fitness).toBe(c.standard!.fitness);
    store.close();
  });

  it('with --suite quick there is one stage and no pruning', async () => {
    const store = createRun(dir, testConfig({ budget: 25, suite: 'quick' }));
    const ex = fakeExecutor();
    await startSearch({ store, executor: ex }).done;
    expect(ex.jobs.every((j) => j.suite === 'quick')).toBe(true);
    expect(store.children({ status: 'pruned' }).length).toBe(0);
    store.close();
  });

  it('a program that yields NaN is a failed child and the run goes on; a time-out retried once that then succeeds is not a failure', async () => {
    const store = createRun(dir, testConfig({ budget: 30 }));
    const ex = fakeExecutor({
      intercept: (job, attempt) => {
        if (job.childId === 5 && job.suite === 'quick')
          return { ok: true, result: { suite: 'quick', fitness: null, tasks: [], ms: 1, failure: 'NaN loss at step 3' } };
        if (job.childId === 8 && attempt === 1) return { ok: false, reason: 'timed out after 1 s', timedOut: true };
        return undefined;
      },
    });
    await startSearch({ store, executor: ex }).done;
    const c = (id: number) => store.child(id)!;
    // Children 5 and 8 may be invalid or cached by chance; only trained ones reach the executor.
    const asked = (id: number) => ex.jobs.filter((j) => j.childId === id && j.suite === 'quick').length;
    if (asked(5)) expect([c(5).status, c(5).failure]).toEqual(['failed', 'NaN loss at step 3']);
    if (asked(8)) expect([c(8).status === 'failed', asked(8)]).toEqual([false, 2]);
    expect(asked(5) + asked(8)).toBeGreaterThan(0);
    expect(store.counters().committed).toBe(30);
    store.close();
  });

  it('a failure of the machine (an exception outside training, a crash retried once) stops the run before that child, says why, and a resume judges it again', async () => {
    const d = tempDir();
    const config = testConfig({ budget: 30 });
    const reference = createRun(d, config, 'reference');
    await startSearch({ store: reference, executor: fakeExecutor() }).done;
    const trainedIds = reference.children().filter((k) => k.status === 'ok' || k.status === 'pruned').map((k) => k.id);
    const [bad, crash] = [trainedIds[3]!, trainedIds[5]!];
    for (const [kind, outcome, asks] of [
      ['exception', { ok: false as const, reason: "Error: the webgpu backend is not available" }, 1],
      ['crash', { ok: false as const, reason: 'worker exited with code 1', crashed: true }, 2],
    ] as const) {
      const id = kind === 'exception' ? bad : crash;
      const store = createRun(d, config, kind);
      const ex = fakeExecutor({ intercept: (job) => (job.childId === id ? outcome : undefined) });
      await expect(startSearch({ store, executor: ex }).done).rejects.toThrow(`child ${id} could not be judged (quick suite): ${outcome.reason}. This is a fault of the machine`);
      expect(ex.jobs.filter((j) => j.childId === id).length).toBe(asks);
      expect(store.counters().committed).toBeLessThan(id);
      expect(store.children({ status: 'failed' }).length).toBe(0);
      expect(store.info().status).toBe('stopped');
      expect(store.logs().at(-1)!.message).toContain(outcome.reason);
      // The machine is mended: the resume judges the child again and ends as the uninterrupted run.
      await startSearch({ store, executor: fakeExecutor() }).done;
      expect(store.children().map(essence)).toEqual(reference.children().map(essence));
      store.close();
    }
    reference.close();
  });

  it('meta-validates the top programs every N children and keeps both scores', async () => {
    const store = createRun(dir, testConfig({ budget: 40, metavalEvery: 10, metavalTop: 2 }));
    const ex = fakeExecutor();
    const seen: number[] = [];
    const h = startSearch({ store, executor: ex });
    h.subscribe((e) => e.type === 'metaval' && seen.push(e.id));
    await h.done;
    const mv = store.metavalResults();
    expect(mv.length).toBeGreaterThanOrEqual(2);
    expect(mv.every((m) => m.status === 'done' && m.fitness !== null)).toBe(true);
    expect(mv.every((m) => m.requestedAt % 10 === 0)).toBe(true);
    expect(seen.sort()).toEqual(mv.map((m) => m.id).sort());
    for (const m of mv) {
      const c = store.child(m.id)!;
      expect(c.metaval).toBe(m.fitness);
      expect(c.fitness).not.toBeNull();
    }
    store.close();
  });

  it('restarts from the best program after N children without improvement', async () => {
    const store = createRun(dir, testConfig({ budget: 60, restartAfter: 8 }));
    await startSearch({ store, executor: fakeExecutor() }).done;
    const c = store.counters();
    expect(c.restarts).toBeGreaterThan(0);
    expect(store.logs().some((l) => /restart from child/.test(l.message))).toBe(true);
    store.close();
  });
});

describe('evolution faults', () => {
  it('ends with a one-line fault when no seed can be trained, and leaves the run resumable', async () => {
    const d = tempDir();
    const store = createRun(d, testConfig({ budget: 10, seeds: ['sgd'] }));
    const ex = fakeExecutor({ intercept: () => ({ ok: true, result: { suite: 'quick', fitness: null, tasks: [], ms: 1, failure: 'NaN loss' } }) });
    await expect(startSearch({ store, executor: ex }).done).rejects.toThrow('no program could be trained: every seed failed (see the run log)');
    expect(store.counters().committed).toBe(1);
    expect(store.child(1)!.status).toBe('failed');
    expect(store.info().status).toBe('stopped');
    store.close();
    fs.rmSync(d, { recursive: true, force: true });
  });
});

describe('state slots', () => {
  it('gives a memoryless seed unused slots that simplify away, and mutation can use them', async () => {
    const sgd = flatten(seedProgram('sgd'));
    const padded = withStateSlots(sgd, 2);
    expect(print(padded, { noHeader: true })).toBe('learning_rate = 0.01\n\ndef train(w, g, lr, s1, s2):\n  update = lr * g\n  return update, s1, s2\n');
    const a = prepare(sgd);
    const b = prepare(padded);
    // Same program once simplified, same fingerprint (the structural hash counts dead slots).
    expect(b.ok && a.ok && b.fingerprint === a.fingerprint && b.simplified === a.simplified).toBe(true);
    expect(withStateSlots(flatten(seedProgram('adamw')), 2)).toEqual(flatten(seedProgram('adamw')));

    const d = tempDir();
    const store = createRun(d, testConfig({ budget: 200, seeds: ['sgd'], stateSlots: 2 }));
    await startSearch({ store, executor: fakeExecutor() }).done;
    const usesSlot = store.children().some((c) => (c.status === 'ok' || c.status === 'pruned') && /\bs[12]\b/.test(c.simplified));
    expect(usesSlot).toBe(true);
    store.close();
    fs.rmSync(d, { recursive: true, force: true });
  });
});
