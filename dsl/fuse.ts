/**
 * The fused compiler: a program becomes one JavaScript loop over the
 * elements of each parameter, reading the weight, gradient and state slots
 * and writing the new weight and state in one pass (generated code, with the
 * table's `f` for each function). The tfjs compiler (`compile.ts`) runs one
 * kernel per operation, each with its own output to allocate and fill; on
 * CPU backends (wasm, cpu) the kernels' calls cost more than the arithmetic
 * (a Lion step on the standard MLP, 8 replicas: 10-13 ms of a 40 ms training
 * step; issue 14).
 *
 * Values are float64 inside an element's computation, as in the reference
 * interpreter; the outputs are float32. The new weight is `w - update`, both
 * rounded to float32 first, as the tfjs path computes it.
 *
 * Replicas: a parameter's elements are R equal runs, one per replica (the
 * stacked learning-rate sweep), each with its own learning rate. Values that
 * do not vary by element (the rate, the step, hyperparameter arithmetic,
 * reductions' results) are computed once per replica and parameter.
 *
 * Reductions: each splits the step into a stage that only accumulates the
 * reduction's sums (per replica, and per parameter or over all of them) and
 * the stages after it, which recompute what they need from the inputs. A
 * reduction whose result is a scalar is assumed to depend on its sums only,
 * as every row of the table does (`norm`, `dot`, `cosine_sim`, `global_norm`).
 */
import type { ElementwiseRow, ReductionRow } from './functions.js';
import type { Lowered, Operand } from './lower.js';
import { SIMD_FUNCTIONS, type SimdRef, type SimdSpec } from './simd.js';

/** One parameter's arrays for a step. */
export interface FusedParam {
  w: Float32Array;
  g: Float32Array;
  /** Incoming state, one array per slot. */
  s: readonly Float32Array[];
  /** The new weight. */
  outW: Float32Array;
  /** The new state per slot; null for a slot the program returns unchanged (see `slotKept`). */
  outS: readonly (Float32Array | null)[];
}

export interface FusedProgram {
  readonly lowered: Lowered;
  /** Per slot: true when the program returns the incoming value unchanged (no output to write). */
  readonly slotKept: readonly boolean[];
  /** One step: `lr` has one rate per replica; every parameter's length is a multiple of lr.length. */
  step(params: readonly FusedParam[], lr: readonly number[], step: number): void;
  /**
   * The element loop as SIMD (simd.ts), when the program has no reduction
   * and every elementwise function has a SIMD form: inputs are w, g and each
   * slot; outputs the new weight and each slot not kept.
   */
  readonly simd: SimdPlan | null;
  /** The JavaScript loop over elements [from, to) of a parameter (a reduction-free program), for what SIMD leaves. */
  range(P: FusedParam, from: number, to: number, lr: number, step: number): void;
}

export interface SimdPlan {
  readonly spec: SimdSpec;
  /** The scalars the SIMD loop takes, for a replica's rate and the step. */
  scalars(lr: number, step: number): number[];
  /** The module's imports `f.<index>`: the table's `f` of each function without a SIMD form. */
  readonly imports: Readonly<Record<string, (...x: number[]) => number>>;
}

/** What a value is: the same for all elements of a replica's parameter ('r'), or one per element ('e'). */
type Kind = 'r' | 'e';

interface Def {
  /** The JavaScript expression that reads it (a variable or an input). */
  readonly code: string;
  readonly kind: Kind;
  /** Index of the instruction that makes it; -1 for inputs and literals. */
  readonly instr: number;
  /** A literal's value. */
  readonly value?: number;
}

interface Reduction {
  readonly row: ReductionRow;
  readonly instr: number;
  /** Accumulators its terms give. */
  readonly nterms: number;
}

type StageFn = (
  W: Float32Array,
  G: Float32Array,
  S: readonly Float32Array[],
  OW: Float32Array | null,
  OS: readonly (Float32Array | null)[],
  from: number,
  to: number,
  lr: number,
  step: number,
  /** Per reduction before this stage: its finished sums for this replica and parameter. */
  ACC: readonly (readonly number[])[],
  /** This stage's sums, added to (a reduction stage only). */
  SUM: Float64Array | null,
) => void;

/** The fused form of a lowered program. */
export function fuse(low: Lowered): FusedProgram {
  const F: ElementwiseRow['f'][] = [];
  const reductions: Reduction[] = [];
  // Definitions in program order (single assignment): what each instruction makes, and what it reads.
  const defs: Def[] = [];
  const uses: Def[][] = [];
  const stmts: string[] = [];
  const cur = new Map<number, Def>();
  const input = (reg: number | null, code: string, kind: Kind) => {
    if (reg !== null) cur.set(reg, { code, kind, instr: -1 });
  };
  input(low.w, 'w', 'e');
  input(low.g, 'g', 'e');
  input(low.lr, 'lr', 'r');
  input(low.step, 'step', 'r');
  low.slotRegs.forEach((r, j) => input(r, `s${j}`, 'e'));
  const read = (o: Operand): Def => ('value' in o ? { code: literal(o.value), kind: 'r', instr: -1, value: o.value } : cur.get(o.reg)!);
  low.instrs.forEach((ins, n) => {
    const args = ins.args.map(read);
    uses.push(args);
    let kind: Kind = args.some((a) => a.kind === 'e') ? 'e' : 'r';
    const list = args.map((a) => a.code).join(', ');
    const row = ins.row;
    let expr: string;
    if (row === null) expr = args[0]!.code;
    else if (row.form === 'constant') expr = literal(row.value);
    else if (row.form === 'elementwise') {
      const inline = INLINE[row.name];
      if (inline) expr = inline(...args.map((a) => a.code));
      else {
        F.push(row.f);
        expr = `F${F.length - 1}(${list})`;
      }
    } else {
      const j = reductions.length;
      reductions.push({ row, instr: n, nterms: row.terms(...args.map(() => 0)).length });
      // A scalar result depends on the sums only (see the header); a tensor result (clip) is finished per element.
      if (row.result === 'scalar') kind = 'r';
      expr = `FIN${j}(ACC[${j}], [${row.result === 'scalar' ? args.map(() => '0').join(', ') : list}])`;
    }
    stmts.push(expr);
    const d: Def = { code: `v${n}`, kind, instr: n };
    defs.push(d);
    cur.set(ins.dst, d);
  });
  const returns = low.returns.map(read);
  const slotKept = low.slotRegs.map((_, j) => returns[j + 1]!.code === `s${j}`);
  const finishes = reductions.map((r) => r.row.finish);
  const terms = reductions.map((r) => r.row.terms);

  /** The instructions before `end` that `need` depends on. */
  const live = (need: readonly Def[], end: number): number[] => {
    const out = new Set<number>();
    const visit = (d: Def) => {
      if (d.instr < 0 || d.instr >= end || out.has(d.instr)) return;
      out.add(d.instr);
      const row = low.instrs[d.instr]!.row;
      // A scalar reduction's value comes from its sums: its arguments were its own stage's business.
      if (row?.form === 'reduction' && row.result === 'scalar') return;
      for (const a of uses[d.instr]!) visit(a);
    };
    need.forEach(visit);
    return [...out].sort((a, b) => a - b);
  };

  interface StageCode {
    /** Statements before the loop (after the per-replica values). */
    before?: string[];
    /** Statements at the end of the loop's body; no loop when empty. */
    inLoop?: string[];
    after?: string[];
    /** Inputs read by these statements. */
    inputs?: string[];
  }

  /**
   * One stage's function: the per-replica values that `need` depends on,
   * then the loop over the replica's elements [from, to) with the elementwise ones.
   */
  const stage = (end: number, need: readonly Def[], code: StageCode): StageFn => {
    const keep = live(need, end);
    const pro: string[] = [];
    const loop: string[] = [];
    const inputs = new Set<string>(code.inputs ?? []);
    for (const d of need) if (d.instr < 0) inputs.add(d.code);
    for (const n of keep) {
      for (const a of uses[n]!) if (a.instr < 0) inputs.add(a.code);
      (defs[n]!.kind === 'e' ? loop : pro).push(`const v${n} = ${stmts[n]};`);
    }
    const loads: string[] = [];
    if (inputs.has('w')) loads.push('const w = W[i];');
    if (inputs.has('g')) loads.push('const g = G[i];');
    low.slotRegs.forEach((_, j) => inputs.has(`s${j}`) && loads.push(`const s${j} = S${j}[i];`));
    const inLoop = code.inLoop ?? [];
    const src = [
      ...low.slotRegs.map((_, j) => `const S${j} = S[${j}], OS${j} = OS[${j}];`),
      ...F.map((_, k) => `const F${k} = F[${k}];`),
      ...reductions.map((_, j) => `const FIN${j} = FIN[${j}], TERMS${j} = TERMS[${j}];`),
      ...pro,
      ...(code.before ?? []),
      ...(inLoop.length ? ['for (let i = from; i < to; i++) {', ...loads, ...loop, ...inLoop, '}'] : []),
      ...(code.after ?? []),
    ].join('\n');
    const make = new Function('F', 'FIN', 'TERMS', `'use strict';\nreturn function (W, G, S, OW, OS, from, to, lr, step, ACC, SUM) {\n${src}\n};`);
    return make(F, finishes, terms) as StageFn;
  };

  // A stage per reduction: it adds up the reduction's terms, per replica.
  const sumStages = reductions.map((r, j) => {
    const args = uses[r.instr]!;
    const call = `TERMS${j}(${args.map((a) => a.code).join(', ')})`;
    const ts = Array.from({ length: r.nterms }, (_, t) => t);
    // Without an elementwise argument: one term per replica and parameter, as a reduction of numbers counts them (reduceNumbers).
    if (args.every((a) => a.kind === 'r')) return stage(r.instr, args, { after: [`const t = ${call};`, ...ts.map((t) => `SUM[${t}] += t[${t}];`)] });
    return stage(r.instr, args, {
      before: ts.map((t) => `let a${t} = 0;`),
      inLoop: [`const t = ${call};`, ...ts.map((t) => `a${t} += t[${t}];`)],
      after: ts.map((t) => `SUM[${t}] += a${t};`),
    });
  });
  const last = stage(low.instrs.length, returns, {
    inLoop: [
      `OW[i] = w - Math.fround(${returns[0]!.code});`,
      ...low.slotRegs.flatMap((_, j) => (slotKept[j] ? [] : [`OS${j}[i] = ${returns[j + 1]!.code};`])),
    ],
    inputs: ['w'],
  });

  /** The final stage's loop as a SIMD spec, with its scalars computed in JavaScript. */
  const simdPlan = (): SimdPlan | null => {
    const keep = live(returns, low.instrs.length);
    const elementwise = keep.filter((n) => defs[n]!.kind === 'e');
    // Functions without a SIMD form are called lane by lane.
    const calls: ElementwiseRow[] = [];
    const inputNames = ['w', 'g', ...low.slotRegs.map((_, j) => `s${j}`)];
    const scalarDefs: Def[] = [];
    const defIndex = new Map<number, number>();
    const ref = (d: Def): SimdRef => {
      if (d.value !== undefined) return { lit: d.value };
      if (d.kind === 'e') return d.instr < 0 ? { input: inputNames.indexOf(d.code) } : { def: defIndex.get(d.instr)! };
      let j = scalarDefs.indexOf(d);
      if (j < 0) j = scalarDefs.push(d) - 1;
      return { r: j };
    };
    const sdefs: { fn: string; args: SimdRef[]; call?: number }[] = [];
    for (const n of elementwise) {
      const row = low.instrs[n]!.row;
      const fn = row === null ? 'copy' : row.name;
      let call: number | undefined;
      if (!SIMD_FUNCTIONS.has(fn)) {
        if (row?.form !== 'elementwise') throw new Error(`fuse: '${fn}' in the element loop`);
        call = calls.indexOf(row);
        if (call < 0) call = calls.push(row) - 1;
      }
      sdefs.push({ fn, args: uses[n]!.map(ref), ...(call !== undefined ? { call } : {}) });
      defIndex.set(n, sdefs.length - 1);
    }
    sdefs.push({ fn: 'sub', args: [{ input: 0 }, ref(returns[0]!)] });
    const outs: SimdRef[] = [{ def: sdefs.length - 1 }];
    low.slotRegs.forEach((_, j) => slotKept[j] || outs.push(ref(returns[j + 1]!)));
    // The scalars' values: the per-replica part of the final stage, returned instead of looped over.
    const pro = live(scalarDefs, low.instrs.length).filter((n) => defs[n]!.kind === 'r');
    const src = [
      ...F.map((_, k) => `const F${k} = F[${k}];`),
      ...pro.map((n) => `const v${n} = ${stmts[n]};`),
      `return [${scalarDefs.map((d) => d.code).join(', ')}];`,
    ].join('\n');
    const scalars = new Function('F', `'use strict';\nreturn function (lr, step) {\n${src}\n};`)(F) as SimdPlan['scalars'];
    return {
      spec: { inputs: inputNames.length, outputs: outs.length, scalars: scalarDefs.length, defs: sdefs, outs, calls: calls.map((r) => r.args.length) },
      scalars,
      imports: Object.fromEntries(calls.map((r, i) => [String(i), r.f])),
    };
  };

  const none: readonly (readonly number[])[] = [];
  return {
    lowered: low,
    slotKept,
    simd: reductions.length ? null : simdPlan(),
    range(P, from, to, lr, stepNo) {
      if (reductions.length) throw new Error('fuse: range() is for programs without reductions');
      last(P.w, P.g, P.s, P.outW, P.outS, from, to, lr, stepNo, none, null);
    },
    step(params, lr, stepNo) {
      const R = lr.length;
      // acc[p][k][j]: reduction j's sums for parameter p, replica k.
      const acc = reductions.length ? params.map(() => Array.from({ length: R }, () => [] as number[][])) : null;
      reductions.forEach((r, j) => {
        const sums = params.map(() => Array.from({ length: R }, () => new Float64Array(r.nterms)));
        params.forEach((P, p) => {
          const m = P.w.length / R;
          for (let k = 0; k < R; k++) sumStages[j]!(P.w, P.g, P.s, null, P.outS, k * m, (k + 1) * m, lr[k]!, stepNo, acc![p]![k]!, sums[p]![k]!);
        });
        for (let k = 0; k < R; k++) {
          const total = r.row.scope === 'global' ? new Float64Array(r.nterms) : null;
          if (total) for (const s of sums) s[k]!.forEach((v, t) => (total[t]! += v));
          params.forEach((_, p) => (acc![p]![k]![j] = Array.from(total ?? sums[p]![k]!)));
        }
      });
      params.forEach((P, p) => {
        const m = P.w.length / R;
        for (let k = 0; k < R; k++) last(P.w, P.g, P.s, P.outW, P.outS, k * m, (k + 1) * m, lr[k]!, stepNo, acc ? acc[p]![k]! : none, null);
      });
    },
  };
}

/**
 * Functions written out without a branch on the data: their `f` branches,
 * and on gradients' signs a branch is mispredicted half the time (Lion's
 * step took 9 ns an element with Math.sign, 2.8 without). Each agrees with
 * `f` except where noted.
 */
const INLINE: Record<string, (...x: string[]) => string> = {
  // Math.sign, but 0 (not -0) at -0, as the tfjs path gives.
  sign: (x) => `(${x} !== ${x} ? ${x} : (+(${x} > 0)) - (+(${x} < 0)))`,
  less: (x, y) => `(+(${x} < ${y}))`,
  greater: (x, y) => `(+(${x} > ${y}))`,
  less_equal: (x, y) => `(+(${x} <= ${y}))`,
  greater_equal: (x, y) => `(+(${x} >= ${y}))`,
  equal: (x, y) => `(+(${x} === ${y}))`,
  not_equal: (x, y) => `(+(${x} !== ${y}))`,
};

/** A number as JavaScript source. */
function literal(v: number): string {
  if (Object.is(v, -0)) return '(-0)';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '(-Infinity)';
  return `(${String(v)})`;
}
