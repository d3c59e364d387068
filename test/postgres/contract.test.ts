/**
 * One contract for both run stores: the same commits, read back the same way,
 * from SQLite (search/store.ts) and PostgreSQL (search/postgres/store.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection } from '../../search/postgres/connection.js';
import { PgRunStore } from '../../search/postgres/store.js';
import { parseStoreUrl } from '../../search/postgres/url.js';
import { SqliteRunStore as RunStore, type Commit } from '../../search/store.js';
import { ZERO_COUNTERS, type Calibration, type Counters } from '../../search/types.js';
import type { ChildRecord, SuiteResult } from '../../search/types.js';
import { OPTEVO_VERSION } from '../../search/version.js';
import { seedSource } from '../../seeds/index.js';
import { tempDir, testConfig } from '../search/helpers.js';
import { tempDatabase, type TempDatabase } from './db.js';

/** Both stores seen through promises: what the contract reads and writes. */
interface AnyStore {
  commit(k: Commit): Promise<void>;
  counters(): Promise<Counters>;
  child(id: number): Promise<ChildRecord | undefined>;
  children(o?: { from?: number; limit?: number }): Promise<ChildRecord[]>;
  all(): Promise<ChildRecord[]>;
  leaderboard(n: number, by?: 'fitness' | 'metaval'): Promise<ChildRecord[]>;
  population(at?: number): Promise<{ id: number; fitness: number; addedAt: number }[]>;
  lineage(id: number): Promise<ChildRecord[]>;
  bestHistory(): Promise<{ id: number; fitness: number }[]>;
  pendingMetaval(): Promise<number[]>;
  setMetaval(id: number, r: SuiteResult | null, failure?: string): Promise<void>;
  metavalResults(): Promise<{ id: number; requestedAt: number; status: string; fitness: number | null }[]>;
  setStatus(s: 'running' | 'stopped' | 'done'): Promise<void>;
  status(): Promise<string>;
  config(): { budget: number };
  seeds(): { name: string; source: string }[];
  calibration(): Promise<Calibration>;
  setCalibration(c: Calibration): Promise<void>;
  saveCounters(c: Counters): Promise<void>;
  families(n: number): Promise<{ best: ChildRecord; members: number }[]>;
}

const config = testConfig({ budget: 50 });
const seeds = [{ name: 'adamw', source: seedSource('adamw') }];

function sqliteStore(dir: string): AnyStore {
  const s = RunStore.create(path.join(dir, 'contract'), { config, seeds });
  return {
    commit: async (k) => s.commit(k),
    counters: async () => s.counters(),
    child: async (id) => s.child(id),
    children: async (o) => s.children(o),
    all: async () => [...s.iterateChildren()],
    leaderboard: async (n, by) => s.leaderboard(n, by),
    population: async (at) => s.population(at),
    lineage: async (id) => s.lineage(id),
    bestHistory: async () => s.bestHistory(),
    pendingMetaval: async () => s.pendingMetaval(),
    setMetaval: async (id, r, f) => s.setMetaval(id, r, f),
    metavalResults: async () => s.metavalResults(),
    setStatus: async (x) => s.setStatus(x),
    status: async () => s.info().status,
    config: () => s.config(),
    seeds: () => s.seeds(),
    calibration: async () => s.calibration(),
    setCalibration: async (c) => s.setCalibration(c),
    saveCounters: async (c) => s.saveCounters(c),
    families: async (n) => s.families(n),
  };
}

async function pgStore(url: string): Promise<AnyStore & { db: Connection }> {
  const db = new Connection(parseStoreUrl(url));
  const s = await PgRunStore.create(db, { name: 'contract', config, seeds, requirements: { optevo: OPTEVO_VERSION, backend: 'cpu', tasksModule: null } });
  return {
    db,
    commit: (k) => s.commit(k),
    counters: () => s.counters(),
    child: (id) => s.child(id),
    children: (o) => s.children(o),
    all: async () => {
      const out: ChildRecord[] = [];
      for await (const c of s.iterateChildren(3)) out.push(c);
      return out;
    },
    leaderboard: (n, by) => s.leaderboard(n, by),
    population: (at) => s.population(at),
    lineage: (id) => s.lineage(id),
    bestHistory: () => s.bestHistory(),
    pendingMetaval: () => s.pendingMetaval(),
    setMetaval: (id, r, f) => s.setMetaval(id, r, f),
    metavalResults: () => s.metavalResults(),
    setStatus: (x) => s.setStatus(x),
    status: () => s.status(),
    config: () => s.config(),
    seeds: () => s.seeds(),
    calibration: () => s.calibration(),
    setCalibration: (c) => s.setCalibration(c),
    saveCounters: (c) => s.saveCounters(c),
    families: (n) => s.families(n),
  };
}

function suite(fitness: number | null, curve: number[]): SuiteResult {
  return {
    suite: 'quick',
    fitness,
    ms: 3.5,
    tasks: [{ task: 'quadratic', lr: 0.1, loss: 0.5, metric: 0.5, score: fitness, curve, ms: 3.5, batched: true }],
  };
}

function child(id: number, parent: number | null, fitness: number | null, status: ChildRecord['status']): ChildRecord {
  const base = {
    id,
    parent,
    mutation: parent === null ? ('seed' as const) : ('modify' as const),
    mutationDetail: `m${id}`,
    source: `src ${id}`,
    metaval: null,
    ms: id * 1.5,
    at: `2026-01-01T00:00:${String(id).padStart(2, '0')}.000Z`,
    // Two families (programs equal up to constants); the best held on a fresh seed.
    family: `fam${id % 2}`,
    ...(id === 7 ? { reeval: suite(2.4, [0.4]) } : {}),
  };
  const analysis = { simplified: `simple ${id}`, hash: `h${id}`, fingerprint: `f${id}`, size: id % 5 };
  // A NaN in a curve (a diverged run) is stored as null by both stores.
  const quick = suite(fitness, [1, 0.5, Number.NaN]);
  const trained = (f: number | null) => {
    if (f === null) throw new Error(`child ${id}: a ${status} child needs a fitness`);
    return f;
  };
  switch (status) {
    case 'invalid':
      return { ...base, status, fitness: null, quick: null, standard: null, cachedFrom: null, failure: 'no return' };
    case 'cached':
      return { ...base, ...analysis, status, fitness, quick: null, standard: null, cachedFrom: 1, failure: null };
    case 'ok':
    case 'pruned':
      return { ...base, ...analysis, status, fitness: trained(fitness), quick, standard: null, cachedFrom: null, failure: null };
    case 'failed':
      return { ...base, ...analysis, status, fitness: null, quick, standard: null, cachedFrom: null, failure: 'diverged' };
  }
}

/** A scripted history: seeds, improvements, a failure, a cache hit, an eviction, a meta-validation request. */
function commits(): Commit[] {
  const out: Commit[] = [];
  let c: Counters = { ...ZERO_COUNTERS };
  const plan: [number | null, ChildRecord['status']][] = [
    [1.0, 'ok'],
    [1.5, 'ok'],
    [null, 'failed'],
    [1.5, 'cached'],
    [0.5, 'pruned'],
    [null, 'invalid'],
    [2.5, 'ok'],
  ];
  plan.forEach(([f, status], i) => {
    const id = i + 1;
    const rec = child(id, id === 1 ? null : 1, f, status);
    c = { ...c, committed: id, [status]: (c[status as keyof Counters] as number) + 1 } as Counters;
    if (f !== null && status !== 'cached' && (c.bestFitness === null || f > c.bestFitness)) c = { ...c, bestFitness: f, bestId: id, lastImprovement: id };
    out.push({
      child: rec,
      add: f !== null ? [{ id, fitness: f }] : [],
      remove: id === 5 ? [1] : [],
      counters: { ...c, elapsedMs: id * 10 },
      metaval: id === 7 ? [7, 2] : [],
    });
  });
  return out;
}

async function exercise(s: AnyStore) {
  for (const k of commits()) await s.commit(k);
  // Out of order and doubled commits are refused.
  const again = commits()[2]!;
  const errors: string[] = [];
  await s.commit(again).catch((e: Error) => errors.push(e.message.replace(/run '\w+' has/, 'run has')));
  await s.commit({ ...commits()[0]!, child: { ...commits()[0]!.child, id: 9 } }).catch((e: Error) => errors.push(e.message));
  const pending = await s.pendingMetaval();
  await s.setMetaval(7, suite(2.25, [0.3]));
  await s.setMetaval(2, null, 'timed out');
  await s.setStatus('done');
  const fresh = await s.calibration();
  const calib: Calibration = {
    references: { 'quick@1': { quadratic: { lr: 0.1, loss: 0.25, metric: null }, mnist: { lr: null, loss: null, metric: null, failure: 'diverged' } } },
    noise: { quick: { noise: 0.02, samples: [0.01, -0.03] } },
  };
  await s.setCalibration(calib);
  const last = await s.counters();
  await s.saveCounters({ ...last, elapsedMs: 999, workerTime: { novel: 5, reference: 2, metaval: 1, reeval: 0.5, capacity: 20 } });
  return {
    fresh,
    calibration: await s.calibration(),
    saved: await s.counters(),
    families: (await s.families(3)).map((f) => [f.best.id, f.members]),
    errors,
    counters: await s.counters(),
    all: await s.all(),
    page: (await s.children({ from: 3, limit: 2 })).map((c) => c.id),
    child4: await s.child(4),
    missing: await s.child(99),
    leaders: (await s.leaderboard(3)).map((c) => c.id),
    byMetaval: (await s.leaderboard(3, 'metaval')).map((c) => [c.id, c.metaval]),
    population: await s.population(),
    populationAt4: await s.population(4),
    lineage: (await s.lineage(7)).map((c) => c.id),
    best: await s.bestHistory(),
    pending,
    metaval: (await s.metavalResults()).map((m) => [m.id, m.requestedAt, m.status, m.fitness]),
    status: await s.status(),
    budget: s.config().budget,
    seeds: s.seeds(),
  };
}

let tdb: TempDatabase;
const dir = tempDir();
beforeAll(async () => {
  tdb = await tempDatabase('contract');
});
afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the run store contract, on SQLite and on PostgreSQL', () => {
  it('both stores read back the same commits the same way', async () => {
    const lite = await exercise(sqliteStore(dir));
    const pg = await pgStore(tdb.url);
    const got = await exercise(pg);
    await pg.db.close();
    // The contract itself, on SQLite:
    expect(lite.counters.committed).toBe(7);
    expect(lite.errors).toHaveLength(2);
    expect(lite.leaders).toEqual([7, 2, 1]);
    expect(lite.population.map((m) => m.id)).toEqual([2, 4, 5, 7]);
    expect(lite.populationAt4.map((m) => m.id)).toEqual([1, 2, 4]);
    expect(lite.lineage).toEqual([7, 1]);
    expect(lite.best).toEqual([
      { id: 1, fitness: 1 },
      { id: 2, fitness: 1.5 },
      { id: 7, fitness: 2.5 },
    ]);
    expect(lite.pending).toEqual([2, 7]);
    expect(lite.all[0]!.quick!.tasks[0]!.curve).toEqual([1, 0.5, null]);
    expect(lite.fresh).toEqual({ references: {}, noise: {} });
    expect(lite.calibration.noise.quick!.noise).toBe(0.02);
    expect(lite.saved.workerTime.capacity).toBe(20);
    expect(lite.saved.committed).toBe(7);
    expect(lite.families).toEqual([
      [7, 3],
      [2, 2],
    ]);
    expect(lite.all[6]!.reeval!.fitness).toBe(2.4);
    // ... and PostgreSQL answers exactly as SQLite does, export text included.
    expect(got.errors.map((e) => e.split(':')[0])).toEqual(lite.errors.map((e) => e.split(':')[0]));
    expect({ ...got, errors: [] }).toEqual({ ...lite, errors: [] });
    expect(got.all.map((c) => JSON.stringify(c))).toEqual(lite.all.map((c) => JSON.stringify(c)));
  });
});

/**
 * A history whose stays churn: every child joins, the oldest leaves once
 * five are in, a restart at child 9 ends every stay and brings the best
 * back, and meta-validation is asked twice for some children.
 */
function churn(n: number): Commit[] {
  const out: Commit[] = [];
  let open: number[] = [];
  for (let id = 1; id <= n; id++) {
    const f = (id * 7) % 11;
    let remove: number[] = [];
    let add = [{ id, fitness: f }];
    if (id === 9) {
      remove = [...open];
      add = [{ id: 4, fitness: 4 * 7 % 11 }, { id, fitness: f }];
    } else if (open.length >= 5) remove = [open[0]!];
    open = [...open.filter((x) => !remove.includes(x)), ...add.map((m) => m.id)];
    out.push({
      child: child(id, id === 1 ? null : id - 1, f, 'ok'),
      add,
      remove,
      counters: { ...ZERO_COUNTERS, committed: id, ok: id },
      metaval: id % 3 === 0 ? [id, id - 1, 2] : [],
    });
  }
  return out;
}

describe('commits written together (commitMany)', () => {
  it('leave each store as the same commits one by one do, and a misplaced group writes nothing', async () => {
    const history = churn(16);
    const one = RunStore.create(path.join(dir, 'one-by-one'), { config, seeds });
    for (const k of history) one.commit(k);
    const want = {
      populations: Array.from({ length: 16 }, (_, i) => one.population(i + 1)),
      metaval: one.metavalResults(),
      children: one.children(),
    };
    const groups = [[0, 1], [1, 4], [4, 11], [11, 16]].map(([a, b]) => history.slice(a, b));

    const lite = RunStore.create(path.join(dir, 'grouped'), { config, seeds });
    for (const g of groups) lite.commitMany(g);
    expect({
      populations: Array.from({ length: 16 }, (_, i) => lite.population(i + 1)),
      metaval: lite.metavalResults(),
      children: lite.children(),
    }).toEqual(want);

    const db = new Connection(parseStoreUrl(tdb.url));
    const s = await PgRunStore.create(db, { name: 'grouped', config, seeds, requirements: { optevo: OPTEVO_VERSION, backend: 'cpu', tasksModule: null } });
    await s.commitMany(groups[0]!);
    // A group that does not follow the last child is refused whole.
    await expect(s.commitMany(groups[2]!)).rejects.toThrow(/commit out of order: child 5, expected 2/);
    expect((await s.counters()).committed).toBe(1);
    for (const g of groups.slice(1)) await s.commitMany(g);
    const got = {
      populations: await Promise.all(Array.from({ length: 16 }, (_, i) => s.population(i + 1))),
      metaval: await s.metavalResults(),
      children: await s.children(),
    };
    await db.close();
    expect(got).toEqual(want);
    // The restart ended every stay and brought child 4 back.
    expect(want.populations[8]!.map((m) => m.id)).toEqual([4, 9]);
  });
});
