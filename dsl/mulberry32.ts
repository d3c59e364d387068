/**
 * mulberry32: a small seeded generator with no dependency, the same numbers
 * everywhere. It draws the fingerprint's fixed probe inputs (which must never
 * change: stored fingerprints depend on them) and the fuzzer's inputs. Every
 * other random number comes from random.ts.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
