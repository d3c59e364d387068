/**
 * What the dashboard needs from a running search. `SearchHandle` (search/)
 * satisfies it; tests pass a hand-made one.
 */
import type { SearchListener } from '../../search/types.js';

export interface SearchSource {
  /** Start receiving events; the returned function, if any, stops them. */
  subscribe(listener: SearchListener): (() => void) | void;
  pause(): void;
  resume(): void;
  /** Stop cleanly: finish or abandon running evaluations, checkpoint, emit `done`. */
  stop(): unknown;
}
