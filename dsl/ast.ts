/**
 * The syntax tree of an optimizer program.
 *
 * A program is data: a list of named hyperparameters, the parameter list of
 * `train`, a list of assignments and the returned expressions. Nested
 * expressions are allowed in source; `flatten` turns a program into the
 * internal form of one function call per statement, which is what mutation
 * edits and what the Lion paper's listings look like.
 */

export interface Pos {
  line: number;
  column: number;
}

export type Expr =
  | { readonly type: 'num'; readonly value: number; readonly pos?: Pos }
  | { readonly type: 'name'; readonly name: string; readonly pos?: Pos }
  | { readonly type: 'call'; readonly fn: string; readonly args: readonly Expr[]; readonly pos?: Pos };

export interface Assign {
  readonly target: string;
  readonly expr: Expr;
  readonly pos?: Pos;
}

export interface HParam {
  readonly name: string;
  readonly value: number;
  readonly pos?: Pos;
}

export interface Param {
  readonly name: string;
  /** Initial value of a state slot (`s=0.01`); zero when absent. */
  readonly init?: number;
  readonly pos?: Pos;
}

export interface Program {
  /** Leading comment lines (without `#`), kept so seeds print with their header. */
  readonly header: readonly string[];
  readonly hparams: readonly HParam[];
  readonly fnName: string;
  readonly params: readonly Param[];
  readonly body: readonly Assign[];
  readonly returns: readonly Expr[];
  /** Where the `return` statement is, for error messages. */
  readonly returnPos?: Pos;
}

/** Parameter names with a fixed meaning; every other parameter is a state slot. */
export type Role = 'w' | 'g' | 'lr' | 'step';

// `learning_rate` is not an alias of `lr`: seeds use it as the name of their
// default learning rate, a hyperparameter.
const ROLE_ALIASES = new Map<string, Role>([
  ['w', 'w'],
  ['weight', 'w'],
  ['weights', 'w'],
  ['g', 'g'],
  ['grad', 'g'],
  ['gradient', 'g'],
  ['lr', 'lr'],
  ['step', 'step'],
]);

export function roleOf(name: string): Role | undefined {
  return ROLE_ALIASES.get(name);
}

/** The state slots of a program: every parameter without a role, in order. */
export function stateSlots(p: Program): Param[] {
  return p.params.filter((q) => roleOf(q.name) === undefined);
}

export const num = (value: number): Expr => ({ type: 'num', value });
export const name = (n: string): Expr => ({ type: 'name', name: n });
export const call = (fn: string, ...args: Expr[]): Expr => ({ type: 'call', fn, args });

/** Drops positions, so programs from different sources compare equal. */
export function stripPositions(p: Program): Program {
  const e = (x: Expr): Expr => {
    switch (x.type) {
      case 'num':
        return { type: 'num', value: x.value };
      case 'name':
        return { type: 'name', name: x.name };
      case 'call':
        return { type: 'call', fn: x.fn, args: x.args.map(e) };
    }
  };
  return {
    header: [...p.header],
    hparams: p.hparams.map((h) => ({ name: h.name, value: h.value })),
    fnName: p.fnName,
    params: p.params.map((q) => (q.init === undefined ? { name: q.name } : { name: q.name, init: q.init })),
    body: p.body.map((s) => ({ target: s.target, expr: e(s.expr) })),
    returns: p.returns.map(e),
  };
}

/** Every name an expression reads. */
export function namesIn(x: Expr, out: string[] = []): string[] {
  switch (x.type) {
    case 'num':
      break;
    case 'name':
      out.push(x.name);
      break;
    case 'call':
      for (const a of x.args) namesIn(a, out);
      break;
  }
  return out;
}
