/**
 * The order of training examples: full batches (every example every step),
 * mini-batches (a fresh seeded permutation each epoch, cut into batches, the
 * short remainder dropped) or online learning (one example per step).
 */
import type { Rng } from '../data/rng.js';
import type { Batching } from '../tasks/types.js';

export interface BatchPlan {
  /** Examples per step. */
  readonly size: number;
  /** Indices for the next step, or null for the whole training set. */
  next(): Int32Array | null;
}

export function batchPlan(batching: Batching, n: number, batchSize: number, r: Rng): BatchPlan {
  switch (batching) {
    case 'full':
      return { size: n, next: () => null };
    case 'mini':
    case 'online': {
      const size = batching === 'online' ? 1 : Math.max(1, Math.min(batchSize, n));
      let perm = r.permutation(n);
      let at = 0;
      return {
        size,
        next() {
          if (at + size > n) {
            perm = r.permutation(n);
            at = 0;
          }
          const out = perm.slice(at, at + size);
          at += size;
          return out;
        },
      };
    }
    default: {
      const never: never = batching;
      throw new Error(`unknown batching ${String(never)}`);
    }
  }
}
