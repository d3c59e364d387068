/**
 * The fuzzer on fixed seeds (CI): 3,000 inputs. `npm run test:fuzz` runs
 * 100,000 on a fresh seed (printed on failure, to replay here).
 */
import { describe, expect, it } from 'vitest';
import { FUZZ } from '../property.js';
import { input, judge } from './fuzz.js';

const SEED = FUZZ ? Number(process.env.OPTEVO_FUZZ_SEED ?? Date.now() % 2 ** 31) : 13;
const COUNT = FUZZ ? 100_000 : 3_000;

describe(`fuzzing parse -> check -> simplify -> fingerprint -> interpret (seed ${SEED}, ${COUNT} inputs)`, () => {
  it('every input is carried through or rejected with a DslError inside the input; no internal error', () => {
    const tally: Record<string, number> = {};
    const internal: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const { kind, text } = input(SEED, i);
      const v = judge(text);
      const key = `${kind} ${typeof v === 'string' ? v : 'internal'}`;
      tally[key] = (tally[key] ?? 0) + 1;
      if (typeof v !== 'string' && internal.length < 5) internal.push(`input ${i} (seed ${SEED}, ${kind}): ${v.internal}\n${JSON.stringify(text.slice(0, 300))}`);
    }
    console.log(`fuzz seed ${SEED}: ${COUNT} inputs`, tally);
    expect(internal).toEqual([]);
    // The drawn programs reach the end of the pipeline often enough to test it.
    expect(tally['random accepted'] ?? 0).toBeGreaterThan(COUNT / 40);
  }, FUZZ ? 3_600_000 : 120_000);
});
