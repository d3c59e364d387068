/**
 * Seeded random streams with saved state.
 *
 * Every random choice of the search comes from a stream derived from the run's
 * seed and the purpose of the choice (`run\0child 17\0select`), never from a
 * stream shared across workers or children, so a child is the same whatever
 * happened to its siblings, and a resumed run replays exactly.
 */
import seedrandom from 'seedrandom';

export type RngState = seedrandom.State.Arc4;

export class Rng {
  private constructor(private readonly prng: seedrandom.StatefulPRNG<RngState>) {}

  /**
   * A stream for `parts` joined with NUL. The trailing NUL matters: seedrandom
   * repeats short seeds (`'ab'` is `'abab'`), so every seed is terminated.
   */
  static derive(...parts: (string | number)[]): Rng {
    return new Rng(seedrandom(parts.map(String).join('\0') + '\0', { state: true }) as seedrandom.StatefulPRNG<RngState>);
  }

  /** A stream continuing from a saved `state()`. */
  static restore(state: RngState): Rng {
    return new Rng(seedrandom('', { state: structuredClone(state) }) as seedrandom.StatefulPRNG<RngState>);
  }

  /** The state to save; `Rng.restore(state)` continues exactly here. */
  state(): RngState {
    return this.prng.state();
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng.double();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int needs n >= 1, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** An index drawn with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + Math.max(0, b), 0);
    if (!(total > 0)) throw new RangeError('Rng.weighted needs a positive total weight');
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      const w = Math.max(0, weights[i]!);
      if (x < w) return i;
      x -= w;
    }
    // Rounding: the last index with a positive weight.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
    return 0;
  }
}
