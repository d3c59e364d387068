/**
 * Seeded random streams. Every random number in tasks and training comes from
 * a stream derived from a path of names (`task\0seed\0purpose\0`), so that
 * adding a consumer never shifts another's numbers. The trailing `\0` keeps
 * short seeds from repeating (seedrandom treats 'ab' like 'abab').
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform in [0, 1). */
  (): number;
  /** Standard normal (Box-Muller, one value per call). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array;
}

export function rng(...path: (string | number)[]): Rng {
  const prng = seedrandom(path.map(String).join('\0') + '\0');
  const u = (() => prng.double()) as Rng;
  u.normal = () => {
    let a = 0;
    while (a === 0) a = prng.double();
    const b = prng.double();
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
  };
  u.int = (n: number) => Math.floor(prng.double() * n);
  u.permutation = (n: number) => {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(prng.double() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  };
  return u;
}
