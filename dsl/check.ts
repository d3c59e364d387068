/**
 * The checker ("abstract execution"): everything that can be known about a
 * program before it runs. Undefined names, arities, kinds (tensor or scalar),
 * the return arity, finite constants, and that the update depends on the
 * gradient, directly or through state carried from earlier steps.
 */
import { type Expr, type Program, type Pos, type Role, roleOf, stateSlots } from './ast.js';
import { DslError } from './errors.js';
import { type Kind, fn, scalarOnly } from './functions.js';
import { paramKind, resultKind } from './kinds.js';

export interface CheckOptions {
  file?: string;
}

export interface CheckInfo {
  /** Kind of every name after the last assignment to it. */
  kinds: Map<string, Kind>;
  /** Kinds of the returned values: update first, then each state slot. */
  returnKinds: Kind[];
}

/** Throws `DslError` at the first problem; returns what it learnt otherwise. */
export function check(p: Program, opts: CheckOptions = {}): CheckInfo {
  const fail: Fail = (msg, pos) => {
    throw new DslError(msg, pos, opts.file);
  };
  const kinds = new Map<string, Kind>();
  checkHparams(p, kinds, fail);
  const roles = checkParams(p, kinds, fail);
  const kindOf = kindChecker(kinds, fail);
  checkBody(p, kinds, kindOf, fail);
  const returnKinds = checkReturns(p, kindOf, fail);
  checkUpdateReadsGradient(p, roles.get('g')!, fail);
  return { kinds, returnKinds };
}

type Fail = (msg: string, pos?: Pos) => never;

/** Hyperparameters are finite scalars. */
function checkHparams(p: Program, kinds: Map<string, Kind>, fail: Fail): void {
  for (const h of p.hparams) {
    if (!Number.isFinite(h.value)) fail(`hyperparameter '${h.name}' must be a finite number`, h.pos);
    kinds.set(h.name, 'scalar');
  }
}

/**
 * Parameters: names of their own, each role at most once, initial values for
 * state slots only, the gradient present. Returns the parameter of each role.
 */
function checkParams(p: Program, kinds: Map<string, Kind>, fail: Fail): Map<Role, string> {
  const roles = new Map<Role, string>();
  for (const q of p.params) {
    if (kinds.has(q.name)) fail(`parameter '${q.name}' has the name of a hyperparameter`, q.pos);
    if (fn(q.name)) fail(`parameter '${q.name}' has the name of a function`, q.pos);
    const role = roleOf(q.name);
    if (role) {
      const prev = roles.get(role);
      if (prev) fail(`'${q.name}' and '${prev}' are both the ${roleName(role)}`, q.pos);
      roles.set(role, q.name);
      if (q.init !== undefined) fail(`'${q.name}' is the ${roleName(role)}, not a state slot, and takes no initial value`, q.pos);
    } else if (q.init !== undefined && !Number.isFinite(q.init)) fail(`initial value of '${q.name}' must be finite`, q.pos);
    kinds.set(q.name, paramKind(q.name));
  }
  if (p.params.length > MAX_PARAMS) fail(`at most ${MAX_PARAMS} parameters are allowed`, p.params[MAX_PARAMS]?.pos);
  if (!roles.has('g')) fail(`'${p.fnName}' needs the gradient parameter 'g'`, p.params[0]?.pos);
  return roles;
}

/**
 * The kind of an expression over the names in `kinds` (as they are when it is
 * called), failing at the first undefined name, unknown function, wrong arity,
 * tensor where a scalar is wanted, or non-finite constant.
 */
function kindChecker(kinds: ReadonlyMap<string, Kind>, fail: Fail): (e: Expr) => Kind {
  const kindOf = (e: Expr): Kind => {
    switch (e.type) {
      case 'num':
        if (!Number.isFinite(e.value)) fail(`constants must be finite`, e.pos);
        return 'scalar';
      case 'name':
        return kinds.get(e.name) ?? fail(`undefined name '${e.name}'`, e.pos);
      case 'call': {
        const row = fn(e.fn) ?? fail(`unknown function '${e.fn}'`, e.pos);
        if (row.args.length !== e.args.length)
          fail(`${row.name} takes ${row.args.length} argument${row.args.length === 1 ? '' : 's'}, got ${e.args.length}`, e.pos);
        const argKinds = e.args.map(kindOf);
        row.args.forEach((want, i) => {
          if (scalarOnly(want) && argKinds[i] !== 'scalar')
            fail(`argument ${i + 1} of ${row.name} must be a scalar, got a tensor`, e.args[i]!.pos ?? e.pos);
        });
        return resultKind(row, argKinds);
      }
    }
  };
  return kindOf;
}

/** Assignments: never to a hyperparameter, a function or the step count; each target takes its value's kind. */
function checkBody(p: Program, kinds: Map<string, Kind>, kindOf: (e: Expr) => Kind, fail: Fail): void {
  const hparamNames = new Set(p.hparams.map((h) => h.name));
  for (const s of p.body) {
    if (hparamNames.has(s.target)) fail(`cannot assign to hyperparameter '${s.target}'`, s.pos);
    if (fn(s.target)) fail(`cannot assign to '${s.target}', a function name`, s.pos);
    if (roleOf(s.target) === 'step') fail(`cannot assign to '${s.target}', the step count`, s.pos);
    kinds.set(s.target, kindOf(s.expr));
  }
}

/** One value for the update and one for each state slot. */
function checkReturns(p: Program, kindOf: (e: Expr) => Kind, fail: Fail): Kind[] {
  const slots = stateSlots(p);
  const want = 1 + slots.length;
  if (p.returns.length !== want) {
    const names = ['update', ...slots.map((q) => q.name)].join(', ');
    fail(`'${p.fnName}' must return ${want} value${want === 1 ? '' : 's'} (${names}), got ${p.returns.length}`, p.returnPos);
  }
  return p.returns.map(kindOf);
}

/**
 * The update must depend on the gradient `gName`: directly, or through a state
 * slot whose next value depends on it (state flows from one step to the next).
 */
function checkUpdateReadsGradient(p: Program, gName: string, fail: Fail): void {
  const slots = stateSlots(p);
  const deps = dependencies(p);
  const bit = (name: string) => 1 << p.params.findIndex((q) => q.name === name);
  let gMask = bit(gName);
  for (let changed = true; changed; ) {
    changed = false;
    slots.forEach((q, i) => {
      const b = bit(q.name);
      if (!(gMask & b) && deps[i + 1]! & gMask) {
        gMask |= b;
        changed = true;
      }
    });
  }
  if (!(deps[0]! & gMask)) fail(`the update does not depend on the gradient '${gName}'`, p.returns[0]?.pos ?? p.returnPos);
}

function roleName(role: Role): string {
  return { w: 'weight', g: 'gradient', lr: 'learning rate', step: 'step count' }[role] ?? role;
}

/** Most parameters a program may have: dependencies are bit masks. */
export const MAX_PARAMS = 30;

/**
 * For each returned value, the parameters (inputs of this step) it depends
 * on, as a bit mask over parameter positions. Assignments are processed in
 * order; a name's dependencies are replaced on reassignment.
 */
export function dependencies(p: Program): number[] {
  const env = new Map<string, number>();
  p.params.forEach((q, i) => env.set(q.name, 1 << i));
  const depsOf = (e: Expr): number => {
    switch (e.type) {
      case 'num':
        return 0;
      case 'name':
        return env.get(e.name) ?? 0;
      case 'call': {
        let m = 0;
        for (const a of e.args) m |= depsOf(a);
        return m;
      }
    }
  };
  for (const s of p.body) env.set(s.target, depsOf(s.expr));
  return p.returns.map(depsOf);
}
