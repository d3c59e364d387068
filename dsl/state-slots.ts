/**
 * Giving a program state slots it does not have, so that a memoryless seed
 * such as SGD can evolve momentum.
 */
import { type Program, stateSlots } from './ast.js';
import { freshNamer, usedNames } from './names.js';

/**
 * The program with at least `n` state slots: missing ones are added after the
 * others as `s1`, `s2`, ... (zero-initialised, returned unchanged). Unused,
 * they are dead code: the simplifier drops them and the hashes ignore them.
 */
export function withStateSlots(p: Program, n: number): Program {
  const have = stateSlots(p).length;
  if (have >= n) return p;
  const fresh = freshNamer(usedNames(p), 's');
  const extra = Array.from({ length: n - have }, fresh);
  return {
    ...p,
    params: [...p.params, ...extra.map((name) => ({ name }))],
    returns: [...p.returns, ...extra.map((name) => ({ type: 'name' as const, name }))],
  };
}
