/**
 * What happens to a child before any training: check it, simplify it, and
 * compute its structural hash and functional fingerprint (dsl/analyze.ts does
 * all four in one pass). An invalid program is never trained.
 */
import type { Program } from '../dsl/ast.js';
import { analyze } from '../dsl/analyze.js';
import { errorMessage, DslError } from '../dsl/errors.js';
import { print } from '../dsl/print.js';

export type Prepared =
  | { ok: true; simplified: string; hash: string; family: string; fingerprint: string; size: number }
  | { ok: false; reason: string };

export type Preparer = (p: Program) => Prepared;

export const prepare: Preparer = (p) => {
  try {
    const a = analyze(p);
    return { ok: true, simplified: print(a.simplified, { noHeader: true }), hash: a.hash, family: a.family, fingerprint: a.fingerprint, size: a.size };
  } catch (e) {
    // The bare reason: a place in a generated program means nothing on the leaderboard.
    if (e instanceof DslError) return { ok: false, reason: e.reason };
    // A fault of the checker itself is no verdict on the program: it must not be stored as one.
    throw new Error(`checker fault: ${errorMessage(e)}`);
  }
};
