/**
 * The search engine with everything scripted, as AutoML-Zero tests its
 * evolution: a mutator that returns the programs of a script in order, an
 * executor whose scores are read off the program (`u = g * K` scores K; lr left out, so that no two are the same optimizer up to a learning rate,
 * on the quick suite, K + 0.5 on the standard one, K + 1 in
 * meta-validation), and the in-memory store. Every count and every event is
 * exact, worked out by hand in the comments.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from '../../dsl/parse.js';
import { startSearch } from '../../search/evolution.js';
import { MemoryRunStore } from '../../search/memory-store.js';
import type { Mutator } from '../../search/mutate.js';
import type { RunStore } from '../../search/run-store.js';
import { SqliteRunStore } from '../../search/store.js';
import type { EvalJob, EvalOutcome, Executor, SearchEvent, SuiteResult } from '../../search/types.js';
import { tempDir, testConfig } from './helpers.js';

const SEED = { name: 'base', source: 'def train(w, g, lr):\n  u = g * lr\n  return u\n' };
const program = (expr: string) => parse(`def train(w, g, lr):\n  u = ${expr}\n  return u\n`);

/** Returns the script's programs in order, whatever the parent. */
function scripted(exprs: string[]): Mutator & { calls: number } {
  const m = Object.assign(
    () => {
      const expr = exprs[m.calls++];
      if (expr === undefined) throw new Error('the script ran out');
      return { program: program(expr), kind: 'modify' as const, detail: `modify: ${expr}` };
    },
    { calls: 0 },
  );
  return m;
}

/** K in `... * K`, else 1. */
const constantOf = (source: string) => Number(/\* ([\d.]+)\n/.exec(source)?.[1] ?? 1);

interface ScriptedExecutor extends Executor {
  jobs: string[];
}

/**
 * Scores K (quick), K + 0.5 (standard), K + 1 (metaval). K = 7 gives no
 * fitness (a NaN loss); K = 9 crashes its worker on the first quick attempt.
 */
function scriptedExecutor(): ScriptedExecutor {
  const attempts = new Map<string, number>();
  const ex: ScriptedExecutor = {
    size: 1,
    jobs: [],
    busy: () => 0,
    async evaluate(job: EvalJob): Promise<EvalOutcome> {
      const key = `${job.childId}/${job.suite}`;
      ex.jobs.push(key);
      attempts.set(key, (attempts.get(key) ?? 0) + 1);
      await new Promise((r) => setImmediate(r));
      const k = constantOf(job.source);
      if (k === 9 && job.suite === 'quick' && attempts.get(key) === 1) return { ok: false, reason: 'worker exited with code 1', crashed: true };
      const fitness = k === 7 ? null : job.suite === 'quick' ? k : job.suite === 'standard' ? k + 0.5 : k + 1;
      const result: SuiteResult = { suite: job.suite, fitness, tasks: [], ms: 1, ...(fitness === null ? { failure: 'NaN loss' } : {}) };
      return { ok: true, result };
    },
    async close() {},
  };
  return ex;
}

/** Events as short strings: `child:3`, `best:2`, `log:warn:...`, `metaval:2:3`. */
function short(e: SearchEvent): string {
  switch (e.type) {
    case 'child':
    case 'best':
      return `${e.type}:${e.child.id}`;
    case 'log':
      return `log:${e.level}:${e.message}`;
    case 'metaval':
      return `metaval:${e.id}:${e.fitness}`;
    case 'done':
      return `done:${e.reason}`;
    default:
      return e.type;
  }
}

async function run(store: RunStore, mutator: Mutator, executor = scriptedExecutor()) {
  const h = startSearch({ store, executor, mutator });
  const events: string[] = [];
  h.subscribe((e) => events.push(short(e)));
  const stats = await h.done;
  return { events, stats, executor };
}

const memory = (over: Parameters<typeof testConfig>[0]) => new MemoryRunStore(testConfig({ seeds: ['base'], batch: 1, ...over }), [SEED]);

describe('the engine, scripted', () => {
  // 1 seed: quick 1, standard 1.5 (seeds skip the hurdle).
  // 2 `* 2`: hurdle of [1] is 1; quick 2 passes; ok 2.5, the best.
  // 3 `* 2` again: cached from 2, fitness 2.5; it joins the population.
  // 4 interp(g, g, g): invalid (a tensor where a scalar goes).
  // 5 `* 0.5`: population [1, 2, 3], quick [1, 2, 2], median 2: pruned, fitness 0.5 + mean gap 0.5 = 1.
  //   Child 1 leaves the population (size 3).
  // 6 `* 7`: no fitness on the quick suite: failed.
  const SCRIPT = ['g * 2', 'g * 2', 'interp(g, g, g)', 'g * 0.5', 'g * 7'];

  it('judges each child as worked out by hand: exact statuses, fitness, counters, jobs and events', async () => {
    const store = memory({ budget: 6, population: 3, tournament: 2, hurdle: 0.5 });
    const { events, stats, executor } = await run(store, scripted(SCRIPT));
    const kids = store.children();
    expect(kids.map((c) => [c.id, c.status, c.fitness, c.cachedFrom])).toEqual([
      [1, 'ok', 1.5, null],
      [2, 'ok', 2.5, null],
      [3, 'cached', 2.5, 2],
      [4, 'invalid', null, null],
      [5, 'pruned', 1, null],
      [6, 'failed', null, null],
    ]);
    expect(kids[3]!.failure).toBe('argument 3 of interp must be a scalar, got a tensor');
    expect(kids[5]!.failure).toBe('NaN loss');
    expect(store.counters()).toEqual({
      committed: 6,
      ok: 2,
      pruned: 1,
      cached: 1,
      invalid: 1,
      failed: 1,
      bestId: 2,
      bestFitness: 2.5,
      lastImprovement: 2,
      restarts: 0,
      elapsedMs: expect.any(Number),
      bestHeld: 2.5,
      // Every evaluation (1 ms each in this executor) is booked as novel training, out of the workers' capacity.
      workerTime: { novel: 6, reference: 0, metaval: 0, reeval: 0, capacity: expect.any(Number) },
    });
    expect(stats).toMatchObject({ judged: 6, trained: 3, cached: 1, invalid: 1, pruned: 1, failed: 1, bestId: 2, bestFitness: 2.5 });
    expect(executor.jobs).toEqual(['1/quick', '1/standard', '2/quick', '2/standard', '5/quick', '6/quick']);
    expect(events).toEqual(['start', 'child:1', 'best:1', 'child:2', 'best:2', 'child:3', 'child:4', 'child:5', 'child:6', 'done:budget']);
    expect(store.population().map((m) => m.id)).toEqual([2, 3, 5]);
    expect(store.population(4).map((m) => m.id)).toEqual([1, 2, 3]);
    expect(store.statuses).toEqual(['running', 'done']);
    expect(store.logs).toEqual([]);
  });

  // Hurdle 0 lets every child run the standard suite.
  // 1: 1.5 best; 2: 2.5 best; 3: 1.0. At 3, meta-validation of the top two ok children: 2 then 1.
  // 4: 0.75; 5: 0.625, the third child without improvement: restart from 2 (the population is 2 alone).
  // 6 `* 3`: 3.5, the best. At 6 the top two are 6 and 2; 2 was validated: 6 alone.
  // 7: 0.8. Population (3): [2 (re-added at 5), 6, 7].
  it('restarts after N children without improvement and meta-validates the leaders every M children', async () => {
    const store = memory({ budget: 7, population: 3, tournament: 2, hurdle: 0, restartAfter: 3, metavalEvery: 3, metavalTop: 2 });
    const { events } = await run(store, scripted(['g * 2', 'g * 0.5', 'g * 0.25', 'g * 0.125', 'g * 3', 'g * 0.3']));
    const restart = 'log:info:restart from child 2 after 3 children without improvement';
    expect(events.filter((e) => !e.startsWith('metaval'))).toEqual([
      'start', 'child:1', 'best:1', 'child:2', 'best:2', 'child:3', 'child:4', 'child:5', restart, 'child:6', 'best:6', 'child:7', 'done:budget',
    ]);
    expect(events.filter((e) => e.startsWith('metaval'))).toEqual(['metaval:2:3', 'metaval:1:2', 'metaval:6:4']);
    expect(store.metavalRows().map((m) => [m.id, m.requestedAt, m.status, m.fitness])).toEqual([
      [1, 3, 'done', 2],
      [2, 3, 'done', 3],
      [6, 6, 'done', 4],
    ]);
    expect(store.child(6)!.metaval).toBe(4);
    expect(store.counters()).toMatchObject({ committed: 7, ok: 7, restarts: 1, bestId: 6, lastImprovement: 6 });
    expect(store.population(5)).toEqual([{ id: 2, fitness: 2.5, addedAt: 5 }]);
    expect(store.population().map((m) => [m.id, m.addedAt])).toEqual([[2, 5], [6, 6], [7, 7]]);
    expect(store.logs).toEqual([{ level: 'info', message: 'restart from child 2 after 3 children without improvement' }]);
  });

  it('runs a crashed evaluation once more, and says so', async () => {
    const store = memory({ budget: 2, hurdle: 0 });
    const { events, executor } = await run(store, scripted(['g * 9']));
    expect(executor.jobs).toEqual(['1/quick', '1/standard', '2/quick', '2/quick', '2/standard']);
    expect(events).toEqual([
      'start', 'child:1', 'best:1', 'log:warn:child 2 (quick): worker exited with code 1; retrying once', 'child:2', 'best:2', 'done:budget',
    ]);
    expect(store.child(2)).toMatchObject({ status: 'ok', fitness: 9.5 });
    expect(store.logs).toEqual([{ level: 'warn', message: 'child 2 (quick): worker exited with code 1; retrying once' }]);
  });

  it('stopped and resumed, the run is the uninterrupted one', async () => {
    const cfg = { budget: 6, population: 3, tournament: 2, hurdle: 0.5 };
    const whole = memory(cfg);
    await run(whole, scripted(SCRIPT));

    const part = memory(cfg);
    const h = startSearch({ store: part, executor: scriptedExecutor(), mutator: scripted(SCRIPT) });
    h.subscribe((e) => e.type === 'child' && e.child.id === 3 && void h.stop());
    const first = await h.done;
    expect(first.judged).toBeGreaterThanOrEqual(3);
    expect(part.status()).toBe('stopped');
    // The resumed run breeds the children after the committed ones again: the script goes on from there.
    const rest = scripted(SCRIPT.slice(first.judged - 1));
    const { events } = await run(part, rest);
    expect(events[0]).toBe('start');
    expect(part.children().map(({ at: _at, ms: _ms, ...c }) => c)).toEqual(whole.children().map(({ at: _at, ms: _ms, ...c }) => c));
    expect(part.population()).toEqual(whole.population());
    expect({ ...part.counters(), elapsedMs: 0, workerTime: null }).toEqual({ ...whole.counters(), elapsedMs: 0, workerTime: null });
  });

  it('writes the same run to SQLite as to memory: both keep the RunStore contract', async () => {
    const cfg = testConfig({ seeds: ['base'], batch: 1, budget: 6, population: 3, tournament: 2, hurdle: 0.5 });
    const mem = new MemoryRunStore(cfg, [SEED]);
    await run(mem, scripted(SCRIPT));
    const dir = tempDir();
    try {
      const sql = SqliteRunStore.create(path.join(dir, 'run'), { config: cfg, seeds: [SEED] });
      await run(sql, scripted(SCRIPT));
      const strip = ({ at: _at, ms: _ms, ...c }: { at: string; ms: number }) => c;
      expect(sql.children().map(strip)).toEqual(mem.children().map(strip));
      for (let n = 1; n <= 6; n++) expect(sql.population(n)).toEqual(mem.population(n));
      expect({ ...sql.counters(), elapsedMs: 0, workerTime: null }).toEqual({ ...mem.counters(), elapsedMs: 0, workerTime: null });
      expect(sql.info().status).toBe('done');
      sql.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
