import { describe, expect, it } from 'vitest';
import { EVENT_CAP, elapsedNow, initialState, LEADER_CAP, reduce, reduceAll, refreshStats } from '../../../src/tui/state.js';
import { makeChild, makeStats } from './fixtures.js';

describe('dashboard state', () => {
  it('ranks trained children by fitness, then id, and skips cached, invalid and failed ones', () => {
    const s = reduceAll(
      initialState(),
      [
        { type: 'child', child: makeChild({ id: 1, fitness: 0.5 }), stats: makeStats({ judged: 1 }) },
        { type: 'child', child: makeChild({ id: 2, fitness: 0.7 }), stats: makeStats({ judged: 2 }) },
        { type: 'child', child: makeChild({ id: 3, fitness: 0.5 }), stats: makeStats({ judged: 3 }) },
        { type: 'child', child: makeChild({ id: 4, fitness: 0.9, status: 'cached', cachedFrom: 2 }), stats: makeStats({ judged: 4 }) },
        { type: 'child', child: makeChild({ id: 5, fitness: null, status: 'failed', failure: 'NaN' }), stats: makeStats({ judged: 5 }) },
        { type: 'child', child: makeChild({ id: 6, fitness: 0.6, status: 'pruned' }), stats: makeStats({ judged: 6 }) },
      ],
      0,
    );
    expect(s.leaders.map((c) => c.id)).toEqual([2, 6, 1, 3]);
    expect(s.lastId).toBe(6);
    expect(s.stats?.judged).toBe(6);
    expect(s.taskNames).toEqual(['quadratic', 'rosenbrock', 'logreg', 'mnist_mlp']);
    expect(s.events.map((e) => e.text)).toEqual(['#5 failed: NaN']);
  });

  it('lists one program per family: the best member of each', () => {
    const s = reduceAll(
      initialState(),
      [
        { type: 'child', child: makeChild({ id: 1, fitness: 0.5, family: 'heavy-ball' }), stats: makeStats({ judged: 1 }) },
        { type: 'child', child: makeChild({ id: 2, fitness: 0.7, family: 'heavy-ball' }), stats: makeStats({ judged: 2 }) },
        { type: 'child', child: makeChild({ id: 3, fitness: 0.6, family: 'lion-like' }), stats: makeStats({ judged: 3 }) },
        { type: 'child', child: makeChild({ id: 4, fitness: 0.65, family: 'heavy-ball' }), stats: makeStats({ judged: 4 }) },
        { type: 'child', child: makeChild({ id: 5, fitness: 0.4 }), stats: makeStats({ judged: 5 }) },
      ],
      0,
    );
    expect(s.leaders.map((c) => c.id)).toEqual([2, 3, 5]);
  });

  it('keeps at most LEADER_CAP leaders and EVENT_CAP events', () => {
    let s = initialState();
    for (let id = 1; id <= LEADER_CAP + 20; id++) {
      s = reduce(s, { type: 'child', child: makeChild({ id, fitness: id }), stats: makeStats({ judged: id }) }, 0);
      s = reduce(s, { type: 'log', level: 'info', message: `m${id}` }, 0);
    }
    expect(s.leaders).toHaveLength(LEADER_CAP);
    expect(s.leaders[0]?.id).toBe(LEADER_CAP + 20);
    expect(s.events).toHaveLength(EVENT_CAP);
    expect(s.events[EVENT_CAP - 1]?.text).toBe(`m${LEADER_CAP + 20}`);
  });

  it('records bests as history points and as finished rows', () => {
    const s = reduceAll(
      initialState(),
      [
        { type: 'start', run: 'r1', resumed: false, budget: 50, workers: 2 },
        { type: 'child', child: makeChild({ id: 1, fitness: 0.1 }), stats: makeStats({ judged: 1 }) },
        { type: 'best', child: makeChild({ id: 1, fitness: 0.1 }) },
        { type: 'child', child: makeChild({ id: 2, fitness: 0.3 }), stats: makeStats({ judged: 2 }) },
        { type: 'best', child: makeChild({ id: 2, fitness: 0.3 }) },
        { type: 'metaval', id: 2, fitness: 0.25 },
      ],
      0,
    );
    expect(s.run).toBe('r1');
    expect(s.history).toEqual([
      { judged: 1, fitness: 0.1 },
      { judged: 2, fitness: 0.3 },
    ]);
    expect(s.bests.map((b) => b.text)).toEqual(['new best #1 0.100 (modify s1: sqrt -> cbrt)', 'new best #2 0.300 (modify s1: sqrt -> cbrt)']);
    expect(s.best?.metaval).toBe(0.25);
    expect(s.leaders[0]?.metaval).toBe(0.25);
    expect(new Set(s.events.map((e) => e.key)).size).toBe(s.events.length);
  });

  it('tracks pause, resume and the end', () => {
    let s = reduce(initialState(), { type: 'paused' }, 0);
    expect(s.paused).toBe(true);
    s = reduce(s, { type: 'resumed' }, 0);
    expect(s.paused).toBe(false);
    s = reduce(s, { type: 'done', stats: makeStats({ judged: 100 }), reason: 'stopped' }, 0);
    expect(s.finished).toBe('stopped');
    expect(s.events.at(-1)?.text).toBe('stopped: checkpointed, resumable');
  });

  it('extrapolates elapsed time only while running', () => {
    const s = reduce(initialState(), { type: 'child', child: makeChild({ id: 1 }), stats: makeStats({ elapsedMs: 10_000 }) }, 1000);
    expect(elapsedNow(s, 4000)).toBe(13_000);
    expect(elapsedNow(reduce(s, { type: 'paused' }, 4000), 9000)).toBe(10_000);
  });

  it('takes polled counters between events, never going back', () => {
    let s = reduce(initialState(), { type: 'child', child: makeChild({ id: 1 }), stats: makeStats({ judged: 5, workersBusy: 0 }) }, 0);
    s = refreshStats(s, makeStats({ judged: 6, workersBusy: 2 }), 10);
    expect(s.stats).toMatchObject({ judged: 6, workersBusy: 2 });
    expect(s.statsAt).toBe(10);
    // A queued event older than the poll keeps the newer counters.
    s = reduce(s, { type: 'child', child: makeChild({ id: 2 }), stats: makeStats({ judged: 5 }) }, 20);
    expect(s.stats?.judged).toBe(6);
    expect(refreshStats(s, makeStats({ judged: 3 }), 30).stats?.judged).toBe(6);
  });

  it('starts from a stored run', () => {
    const s = initialState({
      run: 'old',
      children: [makeChild({ id: 3, fitness: 0.2 }), makeChild({ id: 7, fitness: 0.4 })],
      history: [{ judged: 3, fitness: 0.2 }, { judged: 7, fitness: 0.4 }],
      stats: makeStats({ judged: 9 }),
    });
    expect(s.leaders.map((c) => c.id)).toEqual([7, 3]);
    expect(s.best?.id).toBe(7);
    expect(s.history).toHaveLength(2);
    expect(s.lastId).toBe(9);
  });
});
