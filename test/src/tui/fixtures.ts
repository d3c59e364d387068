import type { ChildRecord, SearchStats, SuiteResult, TaskResult } from '../../../search/types.js';

export const TASKS = ['quadratic', 'rosenbrock', 'logreg', 'mnist_mlp'];

export function task(name: string, score: number | null, lr = 0.01): TaskResult {
  return { task: name, lr, loss: score === null ? null : 1 - score, metric: null, score, curve: [1, 0.5, 0.25], ms: 10 };
}

export function suite(fitness: number | null, scores: (number | null)[] = TASKS.map(() => fitness)): SuiteResult {
  return { suite: 'standard', fitness, tasks: scores.map((s, i) => task(TASKS[i] as string, s)), ms: 40 };
}

export function makeChild(over: Partial<ChildRecord> & { id: number }): ChildRecord {
  const fitness = over.fitness === undefined ? 0.1 * over.id : over.fitness;
  return {
    parent: over.id > 0 ? over.id - 1 : null,
    mutation: 'modify',
    mutationDetail: 'modify s1: sqrt -> cbrt',
    source: 'def train(w, g, m, lr):\n  m = interp(g, m, 0.9)\n  u = sign(m)\n  u = u * lr\n  return u, m\n',
    simplified: 'def train(w, g, m, lr):\n  m = interp(g, m, 0.9)\n  return sign(m) * lr, m\n',
    hash: `h${over.id}`,
    fingerprint: `f${over.id}`,
    status: 'ok',
    fitness,
    quick: null,
    standard: fitness === null ? null : suite(fitness),
    metaval: null,
    size: 3,
    cachedFrom: null,
    failure: null,
    ms: 100,
    at: '2026-01-01T00:00:00.000Z',
    ...over,
  } as ChildRecord;
}

export function makeStats(over: Partial<SearchStats> = {}): SearchStats {
  return {
    judged: 10,
    budget: 100,
    cached: 2,
    invalid: 1,
    pruned: 3,
    failed: 1,
    trained: 6,
    bestId: 4,
    bestFitness: 0.4,
    elapsedMs: 65_000,
    workersBusy: 2,
    workers: 2,
    rate: 1.5,
    ...over,
  };
}
