/**
 * The tasks' handle on a seeded stream (dsl/random.ts): a function giving
 * uniform numbers in [0, 1), with normal draws, integers and permutations. Every random
 * number in tasks and training comes from a stream derived from a path of
 * names (`task\0seed\0purpose`), so that adding a consumer never shifts
 * another's numbers.
 */
import { Rng as Stream } from '../../dsl/random.js';

export interface Rng {
  /** Uniform in [0, 1). */
  (): number;
  /** Standard normal (Box-Muller, one value per call). */
  normal(): number;
  /** Uniform integer in [0, n), n >= 1. */
  int(n: number): number;
  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array;
}

export function rng(...path: (string | number)[]): Rng {
  const s = Stream.derive(...path);
  return Object.assign(() => s.next(), { normal: () => s.normal(), int: (n: number) => s.int(n), permutation: (n: number) => s.permutation(n) });
}
