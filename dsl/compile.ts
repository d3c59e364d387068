/**
 * The compiler to tfjs ops. A program becomes a step function over all of a
 * model's parameters at once (global reductions see them all), with state
 * slots as tensors. Work that involves no tensor (hyperparameter arithmetic,
 * bias corrections from `step`) runs as plain JavaScript numbers, and
 * constant operands are turned into tensors once, not every step.
 *
 * With `replicas: K`, every tensor has a leading axis of K independent
 * replicas (a learning-rate sweep): `lr` is a [K] tensor and reductions are
 * taken per replica.
 */
import type { Program } from './ast.js';
import { type ElementwiseRow, type ReductionRow, type Tensor, type Tfjs, reduceNumbers } from './functions.js';
import { type Instr, type Lowered, type Operand, lower } from './lower.js';

export interface CompileOptions {
  tf: Tfjs;
  hparams?: Record<string, number>;
  replicas?: number;
}

export interface CompiledProgram {
  readonly lowered: Lowered;
  readonly slots: readonly { name: string; init: number }[];
  /**
   * One step over all parameters. Call inside `tf.tidy`. `states` is
   * [param][slot]. Returns new tensors; inputs are not disposed.
   */
  step(ws: Tensor[], gs: Tensor[], states: Tensor[][], lr: number | Tensor, step: number): { updates: Tensor[]; states: Tensor[][] };
  /** Frees the constant tensors made at compile time. */
  dispose(): void;
}

export function compile(p: Program, opts: CompileOptions): CompiledProgram {
  return compileLowered(lower(p, opts.hparams ?? {}), opts);
}

/**
 * For each instruction, whether each operand is known to be >= 0 (or NaN),
 * by the table's sign rules. State slots count as non-negative when they
 * start so and every step keeps them so (a fixpoint).
 */
function nonNegativeOperands(low: Lowered): boolean[][] {
  let slotOk = low.slotInits.map((v) => v >= 0);
  for (;;) {
    const nn = new Array<boolean>(low.nregs).fill(false);
    if (low.step !== null) nn[low.step] = true;
    low.slotRegs.forEach((r, i) => (nn[r] = slotOk[i]!));
    const isNN = (o: Operand) => ('value' in o ? o.value >= 0 : nn[o.reg]!);
    const perInstr = low.instrs.map((ins) => {
      const a = ins.args.map(isNN);
      const lit = ins.args.map((o) => ('value' in o ? o.value : undefined));
      nn[ins.dst] = ins.row === null ? a[0]! : (ins.row.nonneg?.(a, lit) ?? false);
      return a;
    });
    const next = slotOk.map((ok, i) => ok && isNN(low.returns[i + 1]!));
    if (next.every((v, i) => v === slotOk[i])) return perInstr;
    slotOk = next;
  }
}

function compileLowered(low: Lowered, opts: CompileOptions): CompiledProgram {
  const { tf, replicas } = opts;
  const argNonneg = nonNegativeOperands(low);
  const constants = constantTensors(tf, low);
  return {
    lowered: low,
    slots: low.slotNames.map((name, i) => ({ name, init: low.slotInits[i]! })),
    dispose: () => constants.dispose(),
    step(ws, gs, states, lr, stepNo) {
      const regs = loadRegisters(low, ws, gs, states, lr, stepNo, tf, replicas);
      const ctx: StepContext = { tf, replicas, gs, regs, constants, scalar: stepScalars(tf, constants) };
      low.instrs.forEach((ins, n) => (ctx.regs[ins.dst] = runInstr(ctx, ins, argNonneg[n]!)));
      const out = (o: Operand, k: number) => asTensor(tf, value(ctx, o, k), gs[k]!);
      return {
        updates: gs.map((_, k) => out(low.returns[0]!, k)),
        states: gs.map((_, k) => low.slotRegs.map((_, i) => out(low.returns[i + 1]!, k))),
      };
    },
  };
}

/** A value of one register for one parameter: a plain number while no tensor is involved. */
type V = number | Tensor;

/** The tensors of the program's constants, made once at compile time (outside any tidy) and kept. */
interface ConstantTensors {
  /** The kept tensor of `v`, made now if it was not. */
  of(v: number): Tensor;
  /** The kept tensor of `v`, if there is one. */
  find(v: number): Tensor | undefined;
  dispose(): void;
}

/** Tensors for the literal operands of every instruction. Map keys equate -0 and 0: the two share a tensor. */
function constantTensors(tf: Tfjs, low: Lowered): ConstantTensors {
  const kept = new Map<number, Tensor>();
  const of = (v: number): Tensor => {
    let t = kept.get(v);
    if (!t) kept.set(v, (t = tf.keep(tf.scalar(v))));
    return t;
  };
  for (const ins of low.instrs) for (const a of ins.args) if ('value' in a) of(a.value);
  return {
    of,
    find: (v) => kept.get(v),
    dispose() {
      for (const t of kept.values()) t.dispose();
      kept.clear();
    },
  };
}

/** What one step works with. */
interface StepContext {
  readonly tf: Tfjs;
  /** K stacked replicas on axis 0 (a learning-rate sweep), or none. */
  readonly replicas: number | undefined;
  readonly gs: readonly Tensor[];
  /** [register][parameter] */
  readonly regs: V[][];
  readonly constants: ConstantTensors;
  /** A number made this step (from lr or step) as a tensor: see `stepScalars`. */
  readonly scalar: (v: number) => Tensor;
}

/** The registers at the start of a step: the weights, gradients, lr, step count and incoming state slots. */
function loadRegisters(low: Lowered, ws: Tensor[], gs: Tensor[], states: Tensor[][], lr: number | Tensor, stepNo: number, tf: Tfjs, replicas: number | undefined): V[][] {
  const np = gs.length;
  const regs: V[][] = new Array(low.nregs);
  if (low.w !== null) regs[low.w] = ws;
  regs[low.g] = gs;
  if (low.lr !== null) {
    regs[low.lr] = typeof lr === 'number' ? new Array<V>(np).fill(lr) : gs.map((g) => toRank(tf, replicas, lr, Math.max(g.rank, 1)));
  }
  if (low.step !== null) regs[low.step] = new Array<V>(np).fill(stepNo);
  low.slotRegs.forEach((r, i) => (regs[r] = states.map((s) => s[i]!)));
  return regs;
}

function value(ctx: StepContext, o: Operand, k: number): V {
  return 'value' in o ? o.value : ctx.regs[o.reg]![k]!;
}

/** Numbers made in one step as tensors: the kept constant when there is one, else made once, inside the caller's tidy. */
function stepScalars(tf: Tfjs, constants: ConstantTensors): (v: number) => Tensor {
  const made = new Map<number, Tensor>();
  return (v) => {
    let t = constants.find(v) ?? made.get(v);
    if (!t) made.set(v, (t = tf.scalar(v)));
    return t;
  };
}

function tensorOf(ctx: StepContext, v: V): Tensor {
  return typeof v === 'number' ? ctx.scalar(v) : v;
}

/** One instruction, for every parameter. `nonneg`: which operands are known to be >= 0. */
function runInstr(ctx: StepContext, ins: Instr, nonneg: readonly boolean[]): V[] {
  const np = ctx.gs.length;
  const row = ins.row;
  if (row?.form === 'reduction') return reduction(ctx, row, ins.args);
  if (row?.form === 'constant') return new Array<V>(np).fill(row.value);
  const out: V[] = new Array(np);
  for (let p = 0; p < np; p++) out[p] = row === null ? value(ctx, ins.args[0]!, p) : elementwise(ctx, row, ins.args, nonneg, p);
  return out;
}

/**
 * An elementwise function for parameter `p`: on numbers in JavaScript; with
 * some numbers, by the row's mixed form when it has one; else on tensors
 * (without the `abs` of `sqrt` and the like when every operand is >= 0).
 */
function elementwise(ctx: StepContext, row: ElementwiseRow, argOps: readonly Operand[], nonneg: readonly boolean[], p: number): V {
  const args = argOps.map((a) => value(ctx, a, p));
  if (args.every((a) => typeof a === 'number')) return row.f(...(args as number[]));
  if (row.tfMixed && args.some((a) => typeof a === 'number')) {
    // Numbers from literals only: what they make is constant too, so keep it.
    const fromLiterals = args.every((a, j) => typeof a !== 'number' || 'value' in argOps[j]!);
    return row.tfMixed(ctx.tf, args, fromLiterals ? ctx.constants.of : ctx.scalar);
  }
  const impl = row.tfNonneg && nonneg.every(Boolean) ? row.tfNonneg : row.tf;
  return impl(ctx.tf, args.map((a) => tensorOf(ctx, a)));
}

/**
 * A reduction for every parameter: the function table's meaning for numbers
 * when no tensor is involved; else per-replica partial sums, finished per
 * tensor, or (global) added over every parameter first.
 */
function reduction(ctx: StepContext, row: ReductionRow, argOps: readonly Operand[]): V[] {
  const { tf, replicas: K, gs } = ctx;
  const perParam = gs.map((_, k) => argOps.map((a) => value(ctx, a, k)));
  if (perParam.every((args) => args.every((a) => typeof a === 'number'))) return reduceNumbers(row, perParam as number[][]);
  const tensors = (args: V[]) => args.map((a) => tensorOf(ctx, a));
  const sums = perParam.map((args) => row.tfTerms(tf, tensors(args)).map((x) => reduceSum(tf, K, x)));
  if (row.scope === 'tensor') return perParam.map((args, k) => row.tfFinish(tf, sums[k]!, tensors(args)));
  const flat = (t: Tensor) => (K === undefined ? t : tf.reshape(t, [K]));
  const total = sums[0]!.map((_, j) => (gs.length === 1 ? flat(sums[0]![j]!) : tf.addN(sums.map((s) => flat(s[j]!)))));
  return perParam.map((args, k) => {
    const acc = total.map((t) => toRank(tf, K, t, Math.max(gs[k]!.rank, 1)));
    return row.tfFinish(tf, acc, tensors(args));
  });
}

/** Per-replica sum over all axes but the first; a plain sum without replicas. */
function reduceSum(tf: Tfjs, K: number | undefined, x: Tensor): Tensor {
  if (K === undefined) return tf.sum(x);
  const axes = [];
  for (let i = 1; i < x.rank; i++) axes.push(i);
  return axes.length ? tf.sum(x, axes, true) : x;
}

/** A per-replica quantity [K,1,...] reshaped to `rank`. */
function toRank(tf: Tfjs, K: number | undefined, x: Tensor, rank: number): Tensor {
  if (K === undefined || x.rank === rank) return x;
  return tf.reshape(x, [K, ...new Array<number>(Math.max(0, rank - 1)).fill(1)]);
}

/** A returned value as a tensor shaped like its parameter. */
function asTensor(tf: Tfjs, v: V, like: Tensor): Tensor {
  if (typeof v === 'number') return tf.fill(like.shape, v);
  if (v.shape.length === like.shape.length && v.shape.every((d, i) => d === like.shape[i])) return v;
  return tf.broadcastTo(v, like.shape);
}
