/**
 * The internal form: one function call per statement, as in the Lion paper's
 * listings. Nested calls become fresh temporaries, and returned calls get a
 * statement of their own. Mutation edits this
 * form.
 */
import type { Assign, Expr, Program } from './ast.js';
import { freshNamer, usedNames } from './names.js';

/** True when every argument of the statement's call is a name or a number. */
export function isFlatExpr(e: Expr): boolean {
  return e.type !== 'call' || e.args.every((a) => a.type !== 'call');
}

export function isFlat(p: Program): boolean {
  return p.body.every((s) => isFlatExpr(s.expr)) && p.returns.every((r) => r.type !== 'call');
}

export function flatten(p: Program): Program {
  if (isFlat(p)) return p;
  const fresh = freshNamer(usedNames(p));
  const body: Assign[] = [];
  const hoist = (e: Expr): Expr => {
    if (e.type !== 'call') return e;
    const args = e.args.map((a) => {
      if (a.type !== 'call') return a;
      const inner = hoist(a);
      const t = fresh();
      body.push({ target: t, expr: inner, ...(a.pos ? { pos: a.pos } : {}) });
      return { type: 'name', name: t } as Expr;
    });
    return { ...e, args };
  };
  for (const s of p.body) body.push({ ...s, expr: hoist(s.expr) });
  const returns = p.returns.map((r) => {
    if (r.type !== 'call') return r;
    const t = fresh();
    body.push({ target: t, expr: hoist(r), ...(r.pos ? { pos: r.pos } : {}) });
    return { type: 'name', name: t } as Expr;
  });
  return { ...p, body, returns };
}
