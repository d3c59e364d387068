/**
 * The population of regularized evolution: a queue, oldest first. A new
 * member joins at the back; when the population is over its size the oldest
 * leaves, whatever its fitness (the "regularized" part: good programs must
 * keep being rediscovered). Parents are chosen by tournament.
 */
import type { Rng } from '../dsl/random.js';
import type { Member } from './types.js';

export type { Member } from './types.js';

/** What adding one member does: the queue after, and who left. */
export function addMember(pop: readonly Member[], m: Member, size: number): { pop: Member[]; removed: Member[] } {
  const next = [...pop, m];
  const removed = next.length > size ? next.splice(0, next.length - size) : [];
  return { pop: next, removed };
}

/**
 * Tournament selection: `k` members drawn uniformly (with replacement); the
 * fittest wins, the earliest drawn on a tie.
 */
export function tournament(pop: readonly Member[], k: number, rng: Rng): Member {
  if (pop.length === 0) throw new Error('tournament on an empty population');
  let best: Member | undefined;
  for (let i = 0; i < k; i++) {
    const m = pop[rng.int(pop.length)]!;
    if (best === undefined || m.fitness > best.fitness) best = m;
  }
  return best!;
}
