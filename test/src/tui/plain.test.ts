import { describe, expect, it } from 'vitest';
import { createPlainReporter, progressLine } from '../../../src/tui/plain.js';
import { makeChild, makeStats } from './fixtures.js';

describe('plain reporter', () => {
  it('prints notable events and throttles progress lines', () => {
    const lines: string[] = [];
    let t = 0;
    const report = createPlainReporter({ write: (l) => lines.push(l), everyMs: 1000, now: () => t });
    report({ type: 'start', run: 'r1', resumed: false, budget: 3, workers: 1 });
    report({ type: 'child', child: makeChild({ id: 1, fitness: 0.1 }), stats: makeStats({ judged: 1, budget: 3, bestId: 1, bestFitness: 0.1 }) });
    report({ type: 'best', child: makeChild({ id: 1, fitness: 0.1 }) });
    t = 500;
    report({ type: 'child', child: makeChild({ id: 2, fitness: null, status: 'failed', failure: 'diverged' }), stats: makeStats({ judged: 2, budget: 3 }) });
    report({ type: 'log', level: 'warn', message: 'slow', worker: 1 });
    t = 600;
    report({ type: 'child', child: makeChild({ id: 3 }), stats: makeStats({ judged: 3, budget: 3 }) });
    report({ type: 'done', stats: makeStats({ judged: 3, budget: 3, bestId: 1, bestFitness: 0.1, elapsedMs: 5000 }), reason: 'stopped' });
    expect(lines).toEqual([
      'started run r1: budget 3, 1 worker',
      expect.stringMatching(/^\[1\/3\] best 0\.100 \(#1\)/),
      'new best #1 0.100 (modify s1: sqrt -> cbrt)',
      'child #2 failed: diverged',
      'warn: [worker 1] slow',
      expect.stringMatching(/^\[3\/3\] /),
      'stopped (checkpointed): 3/3 judged in 0:05, best #1 fitness 0.100',
      'resume with: optevo search --resume r1',
      'inspect with: optevo show r1 --program 1',
    ]);
  });
  it('formats a progress line', () => {
    expect(progressLine(makeStats({ judged: 5, budget: 100, rate: 2, elapsedMs: 61_000 }))).toBe(
      '[  5/100] best 0.400 (#4)  2.0/s  cached 2  pruned 3  failed 1  invalid 1  elapsed 1:01  eta 0:47',
    );
  });
});
