/**
 * Mutation, as in the Lion paper: insert a random statement, delete one, or
 * modify one (its function, one argument, or a constant). Constants are
 * multiplied by 2^N(0,1); new constants are drawn from N(0,1). Mixing
 * weights (`interp`'s `a`) are the exception: a new one is drawn from a
 * logit-normal prior (decays like 0.9 and 0.99 are common under it, and it
 * never leaves (0, 1)), and a constant in (0, 1) is half the time moved in
 * logit space, so that a decay of 0.9 becomes 0.8 or 0.97 rather than 1.8,
 * which diverges. Half the
 * insertions go into the data path (a later read sees the new value), and a
 * state slot that a new statement assigns reads its old value, so that memory
 * (momentum from SGD) is one mutation away instead of two.
 *
 * Mutation works on the flat form (one function call per statement) and never
 * changes the parent: it builds a new program. It repairs what it breaks: a
 * deleted statement's uses are rebound to an earlier definition of the same
 * kind (the value the name held before, else another name in scope), and new
 * arguments are drawn of the right kind. What it cannot foresee (an update
 * that no longer depends on the gradient) the checker catches, and the child
 * is drawn again (up to 3 times); what still fails is recorded as `invalid`.
 */
import { type Assign, type Expr, type Program, namesIn, roleOf, stateSlots, stripPositions } from '../dsl/ast.js';
import { check } from '../dsl/check.js';
import { FUNCTIONS, fn, scalarOnly, type ArgKind, type Kind } from '../dsl/functions.js';
import { kindsBefore } from '../dsl/kinds.js';
import { formatNumber, roundConstant } from '../dsl/literals.js';
import { freshName } from '../dsl/names.js';
import { printExpr } from '../dsl/print.js';
import type { Rng } from '../dsl/random.js';
import type { MutationWeights } from './config.js';
import { MUTATION_OPS, type MutationOp } from './types.js';

export interface Mutation {
  program: Program;
  kind: MutationOp;
  /** What changed, e.g. `modify 3: sqrt -> cbrt`. */
  detail: string;
}

export type Mutator = (parent: Program, rng: Rng) => Mutation;

export interface MutatorOptions {
  weights: MutationWeights;
  /** Longest body an insertion may make. */
  maxStatements: number;
  /** Probability that an argument of a new or modified statement is a new constant. */
  constantRate?: number;
  /** Probability that a new statement assigns a fresh temporary rather than an existing name. */
  freshTargetRate?: number;
  /**
   * Probability that a new statement goes into the data path: it reads a
   * name that a later statement reads, and that read then sees the new value
   * (`update = lr * g` becomes `m = interp(g, m, 0.9); update = lr * m` in one
   * step). Otherwise a new statement is most often dead until a second
   * mutation uses it: a neutral copy of its parent.
   */
  pathRate?: number;
}

/** What a `modify` changes. */
type ModifyPart = 'function' | 'argument' | 'constant';

const ROWS = FUNCTIONS.filter((r) => r.weight > 0);
const ROW_WEIGHTS = ROWS.map((r) => r.weight);

export function makeMutator(opts: MutatorOptions): Mutator {
  const constantRate = opts.constantRate ?? 0.2;
  const freshRate = opts.freshTargetRate ?? 0.5;
  const pathRate = opts.pathRate ?? 0.5;

  // A child the checker would reject (most often: the update no longer reads
  // the gradient) is drawn again, a few times, from the same stream.
  const once = mutateOnce(opts, constantRate, freshRate, pathRate);
  return (parent, rng) => {
    let m = once(parent, rng);
    for (let attempt = 1; attempt < RETRIES && !isValid(m.program); attempt++) m = once(parent, rng);
    return m;
  };
}

/** Draws of a mutation before a child the checker rejects is kept as it is (and recorded invalid). */
const RETRIES = 3;

function mutateOnce(opts: MutatorOptions, constantRate: number, freshRate: number, pathRate: number): Mutator {
  return (parent, rng) => {
    const p = copy(parent);
    const ops: readonly MutationOp[] = MUTATION_OPS;
    let op = ops[rng.weighted(ops.map((o) => opts.weights[o]))]!;
    // At the size limit an insertion becomes a modification; an empty body can only grow.
    if (op === 'insert' && p.body.length >= opts.maxStatements) op = 'modify';
    if (p.body.length === 0) op = 'insert';

    switch (op) {
      case 'insert': {
        const at = rng.int(p.body.length + 1);
        const scope = kindsBefore(p, at);
        const row = ROWS[rng.weighted(ROW_WEIGHTS)]!;
        const assignable = [...assignableNames(p, at)];
        const target = assignable.length === 0 || rng.next() < freshRate ? freshName(p) : rng.pick(assignable);
        const args = row.args.map((k) => randomArg(rng, scope, k, constantRate));
        const site = rng.next() < pathRate ? pickReadSite(p, at, scope, target, rng) : null;
        if (site !== null) spliceInto(args, row.args, site.name, target, stateSlots(p).some((q) => q.name === target), rng);
        const expr: Expr = { type: 'call', fn: row.name, args };
        const body = [...p.body];
        body.splice(at, 0, { target, expr });
        if (site !== null) body[site.at + 1] = redirect(body[site.at + 1]!, site.arg, target);
        const into = site === null ? '' : ` (into ${p.body[site.at]!.target}'s read of ${site.name})`;
        return { program: { ...p, body }, kind: op, detail: `insert ${at + 1}: ${target} = ${printExpr(expr)}${into}` };
      }
      case 'delete': {
        const at = rng.int(p.body.length);
        const gone = p.body[at]!;
        const { program, rebound } = deleteStatement(p, at, rng);
        const detail = `delete ${at + 1}: ${gone.target} = ${printExpr(gone.expr)}${rebound ? ` (uses read ${rebound})` : ''}`;
        return { program, kind: op, detail };
      }
      case 'modify':
        return modify(p, rng, constantRate);
      default: {
        const never: never = op;
        throw new Error(`unknown mutation ${String(never)}`);
      }
    }
  };
}

function modify(p: Program, rng: Rng, constantRate: number): Mutation {
  const calls = p.body.map((s, i) => [s, i] as const).filter(([s]) => s.expr.type === 'call' && fn(s.expr.fn)?.form !== 'constant');
  const sites = constantSites(p);
  const parts: ModifyPart[] = [];
  if (calls.length > 0) parts.push('function');
  if (p.body.length > 0) parts.push('argument');
  if (sites.length > 0) parts.push('constant');
  const part = rng.pick(parts);

  switch (part) {
    case 'function': {
      const [s, at] = rng.pick(calls);
      const old = s.expr as Extract<Expr, { type: 'call' }>;
      const choices = ROWS.filter((r) => r.name !== old.fn && r.form !== 'constant');
      const row = choices[rng.weighted(choices.map((r) => r.weight))]!;
      const scope = kindsBefore(p, at);
      // Keep the arguments that still fit; draw the others.
      const args = row.args.map((k, i) => {
        const a = old.args[i];
        return a !== undefined && fits(a, k, scope) ? a : randomArg(rng, scope, k, constantRate);
      });
      const expr: Expr = { type: 'call', fn: row.name, args };
      return {
        program: replaceStatement(p, at, { target: s.target, expr }),
        kind: 'modify',
        detail: `modify ${at + 1} function: ${old.fn} -> ${row.name}`,
      };
    }
    case 'argument': {
      const at = rng.int(p.body.length);
      const s = p.body[at]!;
      const scope = kindsBefore(p, at);
      let expr: Expr;
      let what: string;
      if (s.expr.type === 'call' && s.expr.args.length > 0) {
        const i = rng.int(s.expr.args.length);
        const kind = fn(s.expr.fn)?.args[i] ?? 'any';
        const old = s.expr.args[i]!;
        const arg = randomArg(rng, scope, kind, constantRate, old);
        expr = { ...s.expr, args: s.expr.args.map((a, j) => (j === i ? arg : a)) };
        what = `argument ${i + 1}: ${printExpr(old)} -> ${printExpr(arg)}`;
      } else {
        // A copy or a constant (`x = y`, `x = 2`), or a call with no arguments.
        const arg = randomArg(rng, scope, 'any', constantRate, s.expr);
        expr = arg;
        what = `value: ${printExpr(s.expr)} -> ${printExpr(arg)}`;
      }
      return { program: replaceStatement(p, at, { target: s.target, expr }), kind: 'modify', detail: `modify ${at + 1} ${what}` };
    }
    case 'constant': {
      const site = rng.pick(sites);
      const old = site.value;
      const value = roundConstant(perturb(old, rng));
      switch (site.where) {
        case 'hparam': {
          const hparams = p.hparams.map((h, i) => (i === site.index ? { name: h.name, value } : h));
          return {
            program: { ...p, hparams },
            kind: 'modify',
            detail: `modify ${p.hparams[site.index]!.name}: ${formatNumber(old)} -> ${formatNumber(value)}`,
          };
        }
        case 'body': {
          const s = p.body[site.index]!;
          const expr = s.expr.type === 'call' ? { ...s.expr, args: s.expr.args.map((a, j) => (j === site.arg ? num(value) : a)) } : num(value);
          return {
            program: replaceStatement(p, site.index, { target: s.target, expr }),
            kind: 'modify',
            detail: `modify ${site.index + 1} constant: ${formatNumber(old)} -> ${formatNumber(value)}`,
          };
        }
        default: {
          const never: never = site;
          throw new Error(`unknown constant site ${String(never)}`);
        }
      }
    }
    default: {
      const never: never = part;
      throw new Error(`unknown modification ${String(never)}`);
    }
  }
}

const num = (value: number): Expr => ({ type: 'num', value });

/**
 * Deletes statement `at` and rebinds the reads of its value: if the name held
 * a value of the same kind before the statement, later reads simply see that
 * one; otherwise they are rewritten to another name in scope of the same kind
 * (a constant when there is none), up to the next assignment of the name.
 */
function deleteStatement(p: Program, at: number, rng: Rng): { program: Program; rebound: string | null } {
  const gone = p.body[at]!;
  const before = kindsBefore(p, at);
  const kind = kindsBefore(p, at + 1).get(gone.target)!;
  const body = p.body.filter((_, i) => i !== at);
  if (before.get(gone.target) === kind) return { program: { ...p, body }, rebound: null };
  // Is the deleted value read at all (before the name is assigned again, or by the return)?
  let readUntil = body.length; // index in `body` of the reassignment, or body.length
  for (let i = at; i < body.length; i++)
    if (body[i]!.target === gone.target) {
      readUntil = i;
      break;
    }
  const reads = (e: Expr) => namesIn(e).includes(gone.target);
  const used = body.slice(at, readUntil + 1).some((s) => reads(s.expr)) || (readUntil === body.length && p.returns.some(reads));
  if (!used) return { program: { ...p, body }, rebound: null };
  // Candidates in random order; the first that leaves a valid program wins
  // (rebinding the only path from the gradient would not).
  const names = [...before].filter(([n, k]) => k === kind && n !== gone.target).map(([n]) => n);
  const order: Expr[] = [];
  while (names.length > 0) order.push({ type: 'name', name: names.splice(rng.int(names.length), 1)[0]! });
  if (order.length === 0) order.push(num(roundConstant(rng.normal())));
  const rebind = (by: Expr): Program => {
    const swap = (e: Expr): Expr => {
      switch (e.type) {
        case 'num':
          return e;
        case 'name':
          return e.name === gone.target ? by : e;
        case 'call':
          return { ...e, args: e.args.map(swap) };
      }
    };
    const repaired = body.map((s, i) => (i >= at && i <= readUntil ? { target: s.target, expr: swap(s.expr) } : s));
    return { ...p, body: repaired, returns: readUntil === body.length ? p.returns.map(swap) : p.returns };
  };
  for (const by of order) {
    const program = rebind(by);
    if (isValid(program)) return { program, rebound: printExpr(by) };
  }
  return { program: rebind(order[0]!), rebound: printExpr(order[0]!) };
}

function isValid(p: Program): boolean {
  try {
    check(p);
    return true;
  } catch {
    return false;
  }
}

/** A deep copy without positions or header: the child is a new program, not an edit of the parent. */
function copy(p: Program): Program {
  const q = stripPositions(p);
  return { ...q, header: [] };
}

function replaceStatement(p: Program, at: number, s: Assign): Program {
  return { ...p, body: p.body.map((x, i) => (i === at ? s : x)) };
}

type ConstantSite = { where: 'hparam'; index: number; value: number } | { where: 'body'; index: number; arg: number; value: number };

function constantSites(p: Program): ConstantSite[] {
  // A hyperparameter the body never reads (`learning_rate`, the API's default) changes nothing.
  const used = new Set<string>(p.body.flatMap((s) => namesIn(s.expr)));
  const out: ConstantSite[] = [];
  p.hparams.forEach((h, index) => {
    if (used.has(h.name)) out.push({ where: 'hparam', index, value: h.value });
  });
  p.body.forEach((s, index) => {
    if (s.expr.type === 'num') out.push({ where: 'body', index, arg: -1, value: s.expr.value });
    else if (s.expr.type === 'call')
      s.expr.args.forEach((a, arg) => {
        if (a.type === 'num') out.push({ where: 'body', index, arg, value: a.value });
      });
  });
  return out;
}

/** Names a new statement at `at` may assign: state slots and temporaries, never hyperparameters or `step`. */
function assignableNames(p: Program, at: number): Set<string> {
  const out = new Set<string>(stateSlots(p).map((q) => q.name));
  const hp = new Set(p.hparams.map((h) => h.name));
  for (const s of p.body.slice(0, at)) if (!hp.has(s.target) && roleOf(s.target) === undefined) out.add(s.target);
  return out;
}

function fits(a: Expr, want: ArgKind, scope: ReadonlyMap<string, Kind>): boolean {
  if (!scalarOnly(want)) return a.type !== 'name' || scope.has(a.name);
  return a.type === 'num' || (a.type === 'name' && scope.get(a.name) === 'scalar');
}

/**
 * Spread of a new mixing weight's logit: about a third of draws fall in
 * 0.9-0.99 or 0.01-0.1, a seventh beyond, the rest in 0.1-0.9.
 */
const WEIGHT_LOGIT_SD = 3;
/** A mixing weight is a new constant at least this often (a name otherwise: `lr` as a weight is a schedule). */
const WEIGHT_CONSTANT_RATE = 0.5;

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (a: number) => Math.log(a / (1 - a));

/** A new constant for an argument of this kind. */
function newConstant(rng: Rng, want: ArgKind): number {
  return roundConstant(want === 'weight' ? sigmoid(WEIGHT_LOGIT_SD * rng.normal()) : rng.normal());
}

/**
 * A constant moved by `modify`: times 2^N(0,1); one in (0, 1) (a decay, a
 * mixing weight) half the time has its logit moved by N(0,1) instead.
 */
function perturb(old: number, rng: Rng): number {
  // 0 times anything stays 0: a zero constant is redrawn instead.
  if (old === 0) return rng.normal();
  if (old > 0 && old < 1 && rng.next() < 0.5) return sigmoid(logit(old) + rng.normal());
  return old * Math.pow(2, rng.normal());
}

/** A name in scope of the wanted kind, or a new constant. Avoids `avoid` when it can. */
function randomArg(rng: Rng, scope: ReadonlyMap<string, Kind>, want: ArgKind, constantRate: number, avoid?: Expr): Expr {
  const names = [...scope].filter(([n, k]) => (!scalarOnly(want) || k === 'scalar') && !(avoid?.type === 'name' && avoid.name === n)).map(([n]) => n);
  const rate = want === 'weight' ? Math.max(constantRate, WEIGHT_CONSTANT_RATE) : constantRate;
  if (names.length === 0 || rng.next() < rate) return num(newConstant(rng, want));
  return { type: 'name', name: rng.pick(names) };
}

/** A read of `name` by statement `at`'s argument `arg` (-1: the statement is the copy `x = name`). */
interface ReadSite {
  at: number;
  arg: number;
  name: string;
}

/**
 * A read, at or after statement `from`, of a name in `scope` (the names
 * readable at `from`) that still holds the value it held there, so that a
 * statement inserted at `from` can read it; and `target` is not reassigned
 * in between, so that the read would see the new statement's value. Reads
 * of scalar-only arguments are left alone: a tensor there would break the
 * program.
 */
function pickReadSite(p: Program, from: number, scope: ReadonlyMap<string, Kind>, target: string, rng: Rng): ReadSite | null {
  const assigned = new Set<string>();
  const sites: ReadSite[] = [];
  for (let at = from; at < p.body.length; at++) {
    const s = p.body[at]!;
    const readable = (n: string) => scope.has(n) && !assigned.has(n) && n !== target;
    if (!assigned.has(target)) {
      if (s.expr.type === 'name' && readable(s.expr.name)) sites.push({ at, arg: -1, name: s.expr.name });
      if (s.expr.type === 'call') {
        const kinds = fn(s.expr.fn)?.args ?? [];
        s.expr.args.forEach((a, arg) => {
          if (a.type === 'name' && kinds[arg] === 'any' && readable(a.name)) sites.push({ at, arg, name: a.name });
        });
      }
    }
    assigned.add(s.target);
  }
  return sites.length === 0 ? null : rng.pick(sites);
}

/**
 * Puts `name` into one of the new statement's `any` arguments; a state slot
 * that the statement assigns also reads its old value in another, so that it
 * is memory (`m = interp(g, m, a)`), not a temporary that starts at zero.
 */
function spliceInto(args: Expr[], kinds: readonly ArgKind[], name: string, target: string, targetIsSlot: boolean, rng: Rng): void {
  const open = kinds.map((k, i) => [k, i] as const).filter(([k]) => k === 'any').map(([, i]) => i);
  if (open.length === 0) return;
  const i = open.splice(rng.int(open.length), 1)[0]!;
  args[i] = { type: 'name', name };
  if (targetIsSlot && open.length > 0 && !args.some((a) => a.type === 'name' && a.name === target)) args[rng.pick(open)] = { type: 'name', name: target };
}

function redirect(s: Assign, arg: number, to: string): Assign {
  const read: Expr = { type: 'name', name: to };
  if (arg < 0 || s.expr.type !== 'call') return { target: s.target, expr: read };
  return { target: s.target, expr: { ...s.expr, args: s.expr.args.map((a, j) => (j === arg ? read : a)) } };
}
