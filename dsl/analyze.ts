/**
 * Everything the search needs to know about a child before training it, in
 * one pass: check, simplify, structural hash and functional fingerprint.
 * This runs for every child, so it shares work: one check, one value graph.
 */
import type { Program } from './ast.js';
import { check } from './check.js';
import { functionalFingerprint } from './fingerprint.js';
import { familyHashOf, simplifyGraph, structuralHashOf, valueGraph } from './simplify.js';

export interface Analysis {
  simplified: Program;
  /** Structural hash (names, dead code and commutative order ignored). */
  hash: string;
  /** Family hash: the structural hash with constants abstracted. */
  family: string;
  /** Functional fingerprint (updates on fixed inputs, up to scale where lr scales the update). */
  fingerprint: string;
  /** Statements in the simplified program. */
  size: number;
}

/** Throws `DslError` when the program is invalid. */
export function analyze(p: Program, opts: { file?: string } = {}): Analysis {
  check(p, opts);
  const g = valueGraph(p);
  const hash = structuralHashOf(g);
  const simplified = simplifyGraph(g);
  const fingerprint = functionalFingerprint(simplified, { checked: true, structuralHash: hash });
  return { simplified, hash, family: familyHashOf(g), fingerprint, size: simplified.body.length };
}
