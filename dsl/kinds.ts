/**
 * Kinds: whether a value is a tensor (one number per weight) or a scalar (one
 * number for the whole parameter). The rules are stated once, here: the
 * checker applies them while it reports what breaks them, and mutation reads
 * them to draw arguments of the right kind.
 */
import { type Expr, type Program, roleOf } from './ast.js';
import { type FnRow, type Kind, fn } from './functions.js';

/** `lr` and `step` are scalars; the weight, the gradient and the state slots are tensors. */
export function paramKind(name: string): Kind {
  const role = roleOf(name);
  return role === 'lr' || role === 'step' ? 'scalar' : 'tensor';
}

/**
 * The kind of a call's result. Elementwise: a tensor when any argument is.
 * A reduction gives its row's result kind, except that a reduction of a
 * scalar is a scalar (`clip(0.5, c)` scales a number).
 */
export function resultKind(row: FnRow, argKinds: readonly Kind[]): Kind {
  switch (row.form) {
    case 'elementwise':
      return argKinds.includes('tensor') ? 'tensor' : 'scalar';
    case 'constant':
      return 'scalar';
    case 'reduction':
      return row.result === 'tensor' && argKinds[0] === 'tensor' ? 'tensor' : 'scalar';
  }
}

/**
 * The kind of an expression, given the kinds of the names it reads. A name
 * or a function it does not know counts as a tensor: this never fails, and
 * the checker is what reports them.
 */
export function exprKind(e: Expr, nameKind: (name: string) => Kind | undefined): Kind {
  switch (e.type) {
    case 'num':
      return 'scalar';
    case 'name':
      return nameKind(e.name) ?? 'tensor';
    case 'call': {
      const row = fn(e.fn);
      return row ? resultKind(row, e.args.map((a) => exprKind(a, nameKind))) : 'tensor';
    }
  }
}

/** The names readable before statement `at` and their kinds: hyperparameters, parameters and earlier targets. */
export function kindsBefore(p: Program, at: number): Map<string, Kind> {
  const kinds = new Map<string, Kind>();
  for (const h of p.hparams) kinds.set(h.name, 'scalar');
  for (const q of p.params) kinds.set(q.name, paramKind(q.name));
  const nameKind = (name: string) => kinds.get(name);
  for (const s of p.body.slice(0, at)) kinds.set(s.target, exprKind(s.expr, nameKind));
  return kinds;
}
