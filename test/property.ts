/**
 * Property tests on fixed seeds, so that CI is deterministic.
 *
 * `npm test` runs each property on its own fixed seed (derived from its id),
 * then replays every counterexample of that property in the regression list
 * (`fuzz-regressions.ts`). `npm run test:fuzz` (OPTEVO_FUZZ=1) draws fresh
 * seeds and ten times the runs; a failure there names the line to add to the
 * regression list.
 */
import fc from 'fast-check';
import { REGRESSIONS } from './fuzz-regressions.js';

export const FUZZ = process.env.OPTEVO_FUZZ === '1';
const FUZZ_FACTOR = 10;

/** A fixed 32-bit seed per property id (FNV-1a), so properties do not share draws. */
export function seedOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0;
}

export function assertProperty<Ts>(id: string, property: fc.IProperty<Ts>, opts: { numRuns: number; seed?: number }): void {
  if (FUZZ) {
    try {
      fc.assert(property, { numRuns: opts.numRuns * FUZZ_FACTOR });
    } catch (e) {
      if (e instanceof Error) {
        const m = /seed: (-?\d+), path: "([^"]*)"/.exec(e.message);
        if (m) e.message += `\nAdd to test/fuzz-regressions.ts: { property: '${id}', seed: ${m[1]}, path: '${m[2]}' },`;
      }
      throw e;
    }
    return;
  }
  fc.assert(property, { numRuns: opts.numRuns, seed: opts.seed ?? seedOf(id) });
  for (const r of REGRESSIONS) {
    if (r.property === id) fc.assert(property, { seed: r.seed, path: r.path, endOnFailure: true });
  }
}
