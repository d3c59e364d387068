import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, SqliteRunStore, StoreError, resolveRunPath } from '../../search/store.js';
import { ZERO_COUNTERS, type Counters } from '../../search/types.js';
import type { ChildRecord, SuiteResult } from '../../search/types.js';
import { SearchConfigSchema } from '../../search/config.js';

const config = SearchConfigSchema.parse({
  seed: 1,
  budget: 10,
  population: 3,
  tournament: 2,
  seeds: ['adamw'],
  restartAfter: 0,
  mutationWeights: {},
  maxStatements: 30,
  hurdle: 0.5,
  suite: 'standard',
  metavalEvery: 0,
  metavalTop: 1,
  batch: 4,
  lrs: [],
  evalSeed: 1,
});

const suite = (s: SuiteResult['suite'], fitness: number | null): SuiteResult => ({
  suite: s,
  fitness,
  ms: 5,
  tasks: [{ task: 'quadratic', lr: 0.1, loss: 1, metric: 1, score: fitness, curve: [3, 2, 1], ms: 5 }],
});

// Loose records for the store's own checks: the status decides which fields count.
const child = (id: number, fitness: number | null, extra: Partial<ChildRecord> = {}): ChildRecord =>
  ({
  id,
  parent: id === 1 ? null : id - 1,
  mutation: id === 1 ? 'seed' : 'modify',
  mutationDetail: '',
  source: `src ${id}`,
  simplified: `simp ${id}`,
  hash: `h${id}`,
  fingerprint: `f${id}`,
  status: fitness === null ? 'failed' : 'ok',
  fitness,
  quick: suite('quick', fitness),
  standard: suite('standard', fitness),
  metaval: null,
  size: 3,
  cachedFrom: null,
  failure: fitness === null ? 'diverged' : null,
  ms: 10,
  at: new Date(0).toISOString(),
  ...extra,
}) as ChildRecord;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-store-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('SqliteRunStore', () => {
  it('stores children, population history, counters, and reads them back', () => {
    const runDir = path.join(dir, 'r1');
    const s = SqliteRunStore.create(runDir, { config, seeds: [{ name: 'adamw', source: 'x' }] });
    let counters: Counters = { ...ZERO_COUNTERS };
    const fits = [0.1, 0.5, null, 0.3, 0.7];
    fits.forEach((f, i) => {
      const id = i + 1;
      counters = { ...counters, committed: id };
      const pop = s.population();
      const add = f === null ? [] : [{ id, fitness: f }];
      const remove = pop.length + add.length > 3 ? [pop[0]!.id] : [];
      s.commit({ child: child(id, f), add, remove, counters, metaval: id === 4 ? [2] : [] });
    });
    expect(s.counters().committed).toBe(5);
    expect(s.children().map((c) => c.id)).toEqual([1, 2, 3, 4, 5]);
    expect(s.population().map((m) => m.id)).toEqual([2, 4, 5]);
    expect(s.population(2).map((m) => m.id)).toEqual([1, 2]);
    expect(s.population(4).map((m) => m.id)).toEqual([1, 2, 4]);
    expect(s.leaderboard(2).map((c) => c.id)).toEqual([5, 2]);
    expect(s.lineage(3).map((c) => c.id)).toEqual([3, 2, 1]);
    expect(s.bestHistory()).toEqual([
      { id: 1, fitness: 0.1 },
      { id: 2, fitness: 0.5 },
      { id: 5, fitness: 0.7 },
    ]);
    expect(s.pendingMetaval()).toEqual([2]);
    s.setMetaval(2, suite('metaval', 0.25));
    expect(s.child(2)!.metaval).toBe(0.25);
    expect(s.leaderboard(5, 'metaval').map((c) => c.id)).toEqual([2]);
    expect(s.child(1)!.quick!.tasks[0]!.curve).toEqual([3, 2, 1]);
    expect(() => s.commit({ child: child(7, 1), add: [], remove: [], counters, metaval: [] })).toThrow(/out of order/);
    s.close();

    const r = SqliteRunStore.open(runDir, { readonly: true });
    expect(r.config()).toEqual(config);
    expect(r.info().status).toBe('running');
    expect([...r.iterateChildren()].length).toBe(5);
    expect(r.stats().judged).toBe(5);
    r.close();
    expect(resolveRunPath('r1', dir).file).toBe(path.join(runDir, 'run.db'));
  });

  it('refuses a missing or corrupt run with a one-line error', () => {
    expect(() => SqliteRunStore.open(path.join(dir, 'nope'))).toThrow(StoreError);
    fs.mkdirSync(path.join(dir, 'bad'));
    fs.writeFileSync(path.join(dir, 'bad', 'run.db'), 'this is not sqlite at all, not even close'.repeat(50));
    expect(() => SqliteRunStore.open(path.join(dir, 'bad'))).toThrow(/corrupt run|not a database/);
    const runDir = path.join(dir, 'r2');
    SqliteRunStore.create(runDir, { config, seeds: [] }).close();
    expect(() => SqliteRunStore.create(runDir, { config, seeds: [] })).toThrow(/already exists/);
  });

  it('reads a failed meta-validation as a status without a suite result (its column keeps only the failure)', () => {
    const s = SqliteRunStore.create(path.join(dir, 'r3'), { config, seeds: [] });
    s.commit({ child: child(1, 0.5), add: [{ id: 1, fitness: 0.5 }], remove: [], counters: { ...ZERO_COUNTERS, committed: 1 }, metaval: [1] });
    s.setMetaval(1, null, 'timed out');
    expect(s.metavalResults()).toEqual([{ id: 1, requestedAt: 1, status: 'failed', fitness: null, result: null }]);
    s.close();
  });

  it('checks what it reads back: a row or counter no search wrote is a one-line error naming the run and the field', () => {
    const runDir = path.join(dir, 'r4');
    const s = SqliteRunStore.create(runDir, { config, seeds: [] });
    s.commit({ child: child(1, 0.5), add: [{ id: 1, fitness: 0.5 }], remove: [], counters: { ...ZERO_COUNTERS, committed: 1 }, metaval: [] });
    s.commit({ child: child(2, null), add: [], remove: [], counters: { ...ZERO_COUNTERS, committed: 2 }, metaval: [] });
    s.close();
    const db = new Database(path.join(runDir, 'run.db'));
    db.prepare("UPDATE children SET ms = 'slow' WHERE id = 1").run();
    db.prepare('UPDATE children SET failure = NULL WHERE id = 2').run();
    db.prepare("UPDATE counters SET value = '-3' WHERE key = 'ok'").run();
    db.prepare("UPDATE meta SET value = '[{\"name\": 3}]' WHERE key = 'seeds'").run();
    db.close();
    const r = SqliteRunStore.open(runDir, { readonly: true });
    expect(() => r.child(1)).toThrow(/^corrupt run .*run\.db: child 1: ms: .*expected number/);
    expect(() => r.child(2)).toThrow(/^corrupt run .*run\.db: child 2: failure is missing on a failed child$/);
    expect(() => r.counters()).toThrow(/^corrupt run .*run\.db: counters\.ok: /);
    expect(() => r.seeds()).toThrow(/^corrupt run .*run\.db: seeds: 0\.name: /);
    r.close();
  });

  it('refuses a run written by a newer optevo, with one line saying to upgrade (the policy PostgreSQL stores share)', () => {
    const runDir = path.join(dir, 'newer');
    SqliteRunStore.create(runDir, { config, seeds: [] }).close();
    const db = new Database(path.join(runDir, 'run.db'));
    db.prepare("UPDATE meta SET value = ? WHERE key = 'version'").run(JSON.stringify(SCHEMA_VERSION + 1));
    db.close();
    expect(() => SqliteRunStore.open(runDir)).toThrow(
      new RegExp(`has schema version ${SCHEMA_VERSION + 1}, newer than this optevo \\S+ reads \\(${SCHEMA_VERSION}\\): upgrade optevo on this machine$`),
    );
  });
});
