/** The commit reducer alone: records in, state, writes and events out. */
import { describe, expect, it } from 'vitest';
import { commitChild, type RunState } from '../../search/commit.js';
import { ZERO_COUNTERS, type ChildRecord, type SuiteResult } from '../../search/types.js';

const CONFIG = { population: 2, restartAfter: 0, metavalEvery: 0, metavalTop: 2, seeds: ['a'] };
const START: RunState = { counters: ZERO_COUNTERS, population: [], leaders: [], metavalRequested: new Set() };
const suite = (fitness: number): SuiteResult => ({ suite: 'quick', fitness, tasks: [], ms: 1 });
const base = (id: number) => ({ id, parent: id > 1 ? 1 : null, mutation: 'modify' as const, mutationDetail: '', source: '', metaval: null, ms: 1, at: '' });
const analysis = { simplified: 's', hash: 'h', fingerprint: 'f', size: 1 };
const ok = (id: number, fitness: number): ChildRecord => ({ ...base(id), ...analysis, status: 'ok', fitness, quick: suite(fitness), standard: null, cachedFrom: null, failure: null });
const cached = (id: number, from: number, fitness: number): ChildRecord => ({ ...base(id), ...analysis, status: 'cached', fitness, quick: null, standard: null, cachedFrom: from, failure: null });
const invalid = (id: number): ChildRecord => ({ ...base(id), status: 'invalid', fitness: null, quick: null, standard: null, cachedFrom: null, failure: 'bad' });

function commitAll(records: ChildRecord[], config = CONFIG) {
  let state = START;
  const log: { events: string[]; add: number[]; remove: number[]; metaval: readonly number[] }[] = [];
  for (const r of records) {
    const out = commitChild(state, r, config);
    state = out.state;
    log.push({
      events: out.events.map((e) => (e.type === 'log' ? `log:${e.message}` : `${e.type}:${e.child.id}`)),
      add: out.effects.commit.add.map((m) => m.id),
      remove: out.effects.commit.remove,
      metaval: out.effects.metaval,
    });
  }
  return { state, log };
}

describe('commitChild', () => {
  it('counts, keeps the newest members, and never counts a cached copy as an improvement', () => {
    const { state, log } = commitAll([ok(1, 1), ok(2, 3), cached(3, 2, 3), invalid(4), ok(5, 2)]);
    expect(state.counters).toEqual({ ...ZERO_COUNTERS, committed: 5, ok: 3, cached: 1, invalid: 1, bestId: 2, bestFitness: 3, bestHeld: 3, lastImprovement: 2 });
    expect(state.population.map((m) => m.id)).toEqual([3, 5]);
    expect(log.map((l) => l.events)).toEqual([['child:1', 'best:1'], ['child:2', 'best:2'], ['child:3'], ['child:4'], ['child:5']]);
    expect(log.map((l) => [l.add, l.remove])).toEqual([
      [[1], []],
      [[2], []],
      [[3], [1]],
      [[], []],
      [[5], [2]],
    ]);
    expect(state.leaders).toEqual([{ id: 2, fitness: 3 }, { id: 5, fitness: 2 }]);
  });

  it('leaves its input alone', () => {
    const before = commitAll([ok(1, 1), ok(2, 3)]).state;
    const frozen = JSON.stringify({ ...before, metavalRequested: [...before.metavalRequested] });
    commitChild(before, ok(3, 5), { ...CONFIG, metavalEvery: 1, restartAfter: 1 });
    expect(JSON.stringify({ ...before, metavalRequested: [...before.metavalRequested] })).toBe(frozen);
  });

  it('restarts from the best after N children without improvement, and picks each leader for meta-validation once', () => {
    const config = { ...CONFIG, population: 5, restartAfter: 2, metavalEvery: 2, metavalTop: 2 };
    const { state, log } = commitAll([ok(1, 1), ok(2, 4), ok(3, 2), ok(4, 3), ok(5, 5), ok(6, 0)], config);
    // 4 is the second child without improvement after 2: the population becomes 2 alone (4 never joins).
    expect(log[3]).toEqual({ events: ['child:4', 'log:restart from child 2 after 2 children without improvement'], add: [2], remove: [1, 2, 3], metaval: [4] });
    expect(log[1]!.metaval).toEqual([2, 1]);
    expect(log[5]!.metaval).toEqual([5]);
    expect(state.counters).toMatchObject({ restarts: 1, bestId: 5, lastImprovement: 5 });
    expect(state.population.map((m) => [m.id, m.addedAt])).toEqual([[2, 4], [5, 5], [6, 6]]);
    expect([...state.metavalRequested]).toEqual([2, 1, 4, 5]);
  });

  it('ranks the leaders, which meta-validation serves, by held fitness: a score that a fresh seed showed to be noise falls back', () => {
    const config = { ...CONFIG, metavalTop: 2, metavalEvery: 4 };
    const noisy = { ...ok(3, 0.9), reeval: suite(0.2) };
    const held = { ...ok(4, 0.6), reeval: suite(0.7) };
    const { state, log } = commitAll([ok(1, 0.1), ok(2, 0.5), noisy, held], config);
    expect(state.leaders).toEqual([
      { id: 4, fitness: 0.6 },
      { id: 2, fitness: 0.5 },
    ]);
    expect(log[3]!.metaval).toEqual([4, 2]);
  });

  it('refuses a child out of order', () => {
    expect(() => commitChild(START, ok(2, 1), CONFIG)).toThrow('internal: commit of child 2 after 0');
  });
});
