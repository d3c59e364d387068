import type { Counters } from './types.js';
import type { SearchStats } from './types.js';

/** The search's reported stats from its stored counters and the live values only a running search knows. */
export function statsOf(
  c: Counters,
  budget: number,
  live: Pick<SearchStats, 'elapsedMs' | 'workersBusy' | 'workers' | 'rate'>,
): SearchStats {
  return {
    judged: c.committed,
    budget,
    cached: c.cached,
    invalid: c.invalid,
    pruned: c.pruned,
    failed: c.failed,
    trained: c.ok + c.pruned,
    bestId: c.bestId,
    bestFitness: c.bestFitness,
    ...live,
  };
}
