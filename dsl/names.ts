/**
 * Fresh names: a name no part of the program uses, for the temporaries that
 * flattening and simplification make, the statements mutation inserts and the
 * state slots a seed is given. Names count as used whether they are defined
 * or only read, so a fresh name never captures a read.
 */
import { type Program, namesIn } from './ast.js';

/** Every name a program defines or reads. */
export function usedNames(p: Program): Set<string> {
  const names: string[] = [...p.hparams.map((h) => h.name), ...p.params.map((q) => q.name)];
  for (const s of p.body) {
    names.push(s.target);
    namesIn(s.expr, names);
  }
  for (const r of p.returns) namesIn(r, names);
  return new Set(names);
}

/** Names `${prefix}1`, `${prefix}2`, ... that are not in `used`; each one given is added to `used`. */
export function freshNamer(used: Set<string>, prefix = 'v'): () => string {
  let i = 0;
  return () => {
    let n: string;
    do n = `${prefix}${++i}`;
    while (used.has(n));
    used.add(n);
    return n;
  };
}

/** The first name `${prefix}N` that `p` does not use. */
export function freshName(p: Program, prefix = 'v'): string {
  return freshNamer(usedNames(p), prefix)();
}
