/**
 * Lowering: a checked program becomes a list of instructions over numbered
 * registers, the form both the float64 interpreter and the tfjs compiler run.
 * Hyperparameters become constants here (with the caller's overrides), so the
 * runners never look a name up.
 */
import { type Expr, type Program, roleOf, stateSlots } from './ast.js';
import { check } from './check.js';
import { flatten } from './flatten.js';
import { type FnRow, fn } from './functions.js';

export type Operand = { readonly reg: number } | { readonly value: number };

export interface Instr {
  /** The function; null for a plain copy of the one argument. */
  readonly row: FnRow | null;
  readonly args: readonly Operand[];
  readonly dst: number;
}

export interface Lowered {
  readonly nregs: number;
  readonly w: number | null;
  readonly g: number;
  readonly lr: number | null;
  readonly step: number | null;
  /** Register of each state slot's incoming value. */
  readonly slotRegs: readonly number[];
  readonly slotNames: readonly string[];
  readonly slotInits: readonly number[];
  readonly instrs: readonly Instr[];
  /** Update first, then each slot's next value. */
  readonly returns: readonly Operand[];
}

/** Hyperparameter values of a program by (snake_case) name, with overrides applied. */
export function hparamValues(p: Program, overrides: Record<string, number> = {}): Map<string, number> {
  const values = new Map(p.hparams.map((h) => [h.name, h.value]));
  for (const [k, v] of Object.entries(overrides)) {
    if (!values.has(k)) throw new Error(`unknown hyperparameter '${k}'`);
    if (!Number.isFinite(v)) throw new Error(`hyperparameter '${k}' must be a finite number, got ${v}`);
    values.set(k, v);
  }
  return values;
}

export function lower(program: Program, overrides: Record<string, number> = {}, opts: { checked?: boolean } = {}): Lowered {
  if (!opts.checked) check(program);
  const p = flatten(program);
  const hp = hparamValues(p, overrides);
  const regs = new Map<string, number>();
  let nregs = 0;
  const regOf = (name: string): number => {
    let r = regs.get(name);
    if (r === undefined) regs.set(name, (r = nregs++));
    return r;
  };
  let w: number | null = null;
  let g = -1;
  let lr: number | null = null;
  let step: number | null = null;
  for (const q of p.params) {
    const r = regOf(q.name);
    switch (roleOf(q.name)) {
      case 'w':
        w = r;
        break;
      case 'g':
        g = r;
        break;
      case 'lr':
        lr = r;
        break;
      case 'step':
        step = r;
        break;
      case undefined:
        break;
    }
  }
  const slots = stateSlots(p);
  const slotRegs = slots.map((q) => regOf(q.name));

  const operand = (e: Expr): Operand => {
    switch (e.type) {
      case 'num':
        return { value: e.value };
      case 'name': {
        // A body assignment shadows nothing here: the checker forbids
        // assigning to hyperparameters, so a hyperparameter name is a constant.
        const v = hp.get(e.name);
        if (v !== undefined && !regs.has(e.name)) return { value: v };
        return { reg: regOf(e.name) };
      }
      case 'call': {
        const row = fn(e.fn)!;
        if (row.form === 'constant') return { value: row.value };
        throw new Error('lower: program is not flat');
      }
    }
  };

  const instrs: Instr[] = [];
  for (const s of p.body) {
    const e = s.expr;
    const row = e.type === 'call' ? fn(e.fn)! : null;
    // Operands first: a statement reads its arguments before it writes its target.
    const instr =
      e.type === 'call' && row!.form !== 'constant' ? { row, args: e.args.map(operand) } : { row: null, args: [operand(e)] };
    instrs.push({ ...instr, dst: regOf(s.target) });
  }
  const returns = p.returns.map(operand);
  return {
    nregs,
    w,
    g,
    lr,
    step,
    slotRegs,
    slotNames: slots.map((q) => q.name),
    slotInits: slots.map((q) => q.init ?? 0),
    instrs,
    returns,
  };
}
