/**
 * Seeded random streams: every random choice of the search and every random
 * number of the tasks and their training come from here.
 *
 * A stream is derived from a path of names (`seed\0child\017\0select`,
 * `task\0seed\0data`), never shared across consumers, workers or children:
 * adding a consumer never shifts another's numbers, a child is the same
 * whatever happened to its siblings, and a resumed run replays exactly.
 *
 * The generator is seedrandom's ARC4. The fingerprint's fixed probe inputs
 * come from mulberry32 (mulberry32.ts) instead: the optimizer library bundles
 * the fingerprint and has no dependencies.
 */
import seedrandom from 'seedrandom';

export type RngState = seedrandom.State.Arc4;
type Arc4 = seedrandom.StatefulPRNG<RngState>;

export class Rng {
  private constructor(private readonly prng: Arc4) {}

  /**
   * The stream for `path` joined with NUL. The trailing NUL matters: seedrandom
   * repeats short seeds (`'ab'` is `'abab'`), so every seed is terminated.
   */
  static derive(...path: (string | number)[]): Rng {
    return new Rng(seedrandom(path.map(String).join('\0') + '\0', { state: true }) as Arc4);
  }

  /** A stream continuing from a saved `state()`. */
  static restore(state: RngState): Rng {
    return new Rng(seedrandom('', { state: structuredClone(state) }) as Arc4);
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

  /** Standard normal (Box-Muller, one value per call). */
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

  /** A uniformly random order of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
