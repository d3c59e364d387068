/**
 * The float64 reference interpreter: runs a program over plain arrays, one
 * step at a time, for every parameter of a model in lockstep (so global
 * reductions see them all). Tests, fingerprints and the closed-form proxy
 * tasks use it; it has no per-op overhead beyond a closure call.
 */
import type { Program } from './ast.js';
import { type ElementwiseRow, type RefValue, type ReductionRow, reduceNumbers } from './functions.js';
import { type Lowered, type Operand, lower } from './lower.js';

export interface RefState {
  /** [slot][param] */
  slots: Float64Array[][];
  /** Steps taken so far. */
  step: number;
}

export interface Interpreter {
  readonly lowered: Lowered;
  init(ws: Float64Array[]): RefState;
  step(ws: Float64Array[], gs: Float64Array[], state: RefState, lr: number): { updates: Float64Array[]; state: RefState };
}

export function interpreter(p: Program, hparams: Record<string, number> = {}, opts: { checked?: boolean } = {}): Interpreter {
  return interpreterFor(lower(p, hparams, opts));
}

interface Step {
  row: Lowered['instrs'][number]['row'];
  dst: number;
  /** Register of each argument, or -1 for a literal (then in `lits`). */
  regs: number[];
  lits: number[];
}

export function interpreterFor(low: Lowered): Interpreter {
  // Operands resolved once: the step loop reads arrays, not operand objects.
  const plan: Step[] = low.instrs.map((ins) => ({
    row: ins.row,
    dst: ins.dst,
    regs: ins.args.map((o) => ('reg' in o ? o.reg : -1)),
    lits: ins.args.map((o) => ('value' in o ? o.value : 0)),
  }));
  return {
    lowered: low,
    init(ws) {
      return { slots: low.slotInits.map((v) => ws.map((w) => new Float64Array(w.length).fill(v))), step: 0 };
    },
    step(ws, gs, state, lr) {
      const np = ws.length;
      const stepNo = state.step + 1;
      // regs[r][param]
      const regs: RefValue[][] = new Array(low.nregs);
      if (low.w !== null) regs[low.w] = ws;
      regs[low.g] = gs;
      if (low.lr !== null) regs[low.lr] = new Array<number>(np).fill(lr);
      if (low.step !== null) regs[low.step] = new Array<number>(np).fill(stepNo);
      low.slotRegs.forEach((r, i) => (regs[r] = state.slots[i]!));
      const val = (o: Operand, k: number): RefValue => ('value' in o ? o.value : regs[o.reg]![k]!);
      const argv: RefValue[][] = [[], [], [], []];

      for (let n = 0; n < plan.length; n++) {
        const st = plan[n]!;
        const ins = low.instrs[n]!;
        const out: RefValue[] = new Array(np);
        const row = st.row;
        const nargs = st.regs.length;
        if (row === null) {
          const r = st.regs[0]!;
          for (let k = 0; k < np; k++) out[k] = r >= 0 ? regs[r]![k]! : st.lits[0]!;
        } else if (row.form === 'elementwise') {
          const a = argv[nargs] ?? [];
          for (let k = 0; k < np; k++) {
            for (let j = 0; j < nargs; j++) {
              const r = st.regs[j]!;
              a[j] = r >= 0 ? regs[r]![k]! : st.lits[j]!;
            }
            out[k] = applyElementwise(row, a);
          }
        } else if (row.form === 'constant') {
          out.fill(row.value);
        } else if (st.regs.every((r, j) => (r >= 0 ? typeof regs[r]![0] === 'number' : true))) {
          // Numbers only: the function table's meaning for a reduction of numbers.
          const perParam = Array.from({ length: np }, (_, k) => ins.args.map((a) => val(a, k) as number));
          reduceNumbers(row, perParam).forEach((v, k) => (out[k] = v));
        } else if (row.scope === 'tensor') {
          for (let k = 0; k < np; k++) {
            const args = ins.args.map((a) => val(a, k));
            out[k] = row.finish(sumTerms(row, args), args);
          }
        } else {
          let acc: number[] | null = null;
          const perParam = [];
          for (let k = 0; k < np; k++) {
            const args = ins.args.map((a) => val(a, k));
            perParam.push(args);
            const t = sumTerms(row, args);
            acc = acc === null ? t : acc.map((v, i) => v + t[i]!);
          }
          for (let k = 0; k < np; k++) out[k] = row.finish(acc!, perParam[k]!);
        }
        regs[st.dst] = out;
      }
      const asTensor = (v: RefValue, n: number): Float64Array =>
        typeof v === 'number' ? new Float64Array(n).fill(v) : v;
      const updates = ws.map((w, k) => asTensor(val(low.returns[0]!, k), w.length));
      const slots = low.slotRegs.map((_, i) => ws.map((w, k) => asTensor(val(low.returns[i + 1]!, k), w.length)));
      return { updates, state: { slots, step: stepNo } };
    },
  };
}

export function applyElementwise(row: ElementwiseRow, args: RefValue[]): RefValue {
  const f = row.f;
  let n = -1;
  for (const a of args) if (typeof a !== 'number') n = a.length;
  if (n < 0) return f(...(args as number[]));
  const out = new Float64Array(n);
  switch (args.length) {
    case 1: {
      const a = args[0] as Float64Array;
      for (let i = 0; i < n; i++) out[i] = f(a[i]!);
      break;
    }
    case 2: {
      const [a, b] = args;
      if (typeof a === 'number') for (let i = 0; i < n; i++) out[i] = f(a, (b as Float64Array)[i]!);
      else if (typeof b === 'number') for (let i = 0; i < n; i++) out[i] = f(a![i]!, b);
      else for (let i = 0; i < n; i++) out[i] = f(a![i]!, b![i]!);
      break;
    }
    case 3: {
      const [a, b, c] = args;
      const A = typeof a === 'number' ? null : a!;
      const B = typeof b === 'number' ? null : b!;
      const C = typeof c === 'number' ? null : c!;
      const a0 = a as number;
      const b0 = b as number;
      const c0 = c as number;
      for (let i = 0; i < n; i++) out[i] = f(A ? A[i]! : a0, B ? B[i]! : b0, C ? C[i]! : c0);
      break;
    }
    default: {
      const get = args.map((a) => (typeof a === 'number' ? () => a : (i: number) => a[i]!));
      const xs = new Array<number>(args.length);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < get.length; j++) xs[j] = get[j]!(i);
        out[i] = f(...xs);
      }
    }
  }
  return out;
}

function sumTerms(row: ReductionRow, args: RefValue[]): number[] {
  let n = -1;
  for (const a of args) if (typeof a !== 'number') n = a.length;
  if (n < 0) return row.terms(...(args as number[]));
  const get = args.map((a) => (typeof a === 'number' ? () => a : (i: number) => a[i]!));
  let acc: number[] | null = null;
  for (let i = 0; i < n; i++) {
    const t = row.terms(...get.map((gf) => gf(i)));
    if (acc === null) acc = t;
    else for (let j = 0; j < t.length; j++) acc[j]! += t[j]!;
  }
  return acc ?? row.terms(...args.map(() => 0)).map(() => 0);
}
