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
import { type FnRow, type Tensor, type Tfjs, reduceNumbers } from './functions.js';
import { type Lowered, type Operand, lower } from './lower.js';

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

type V = number | Tensor;

export function compile(p: Program, opts: CompileOptions): CompiledProgram {
  return compileLowered(lower(p, opts.hparams ?? {}), opts);
}

/**
 * For each instruction, whether each operand is known to be >= 0 (or NaN),
 * by the table's sign rules. State slots count as non-negative when they
 * start so and every step keeps them so (a fixpoint).
 */
export function nonNegativeOperands(low: Lowered): boolean[][] {
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

export function compileLowered(low: Lowered, opts: CompileOptions): CompiledProgram {
  const tf = opts.tf;
  const K = opts.replicas;
  const argNonneg = nonNegativeOperands(low);
  const constants = new Map<number, Tensor>();
  const constTensor = (v: number): Tensor => {
    const key = Object.is(v, -0) ? -0 : v;
    let t = constants.get(key);
    if (!t) {
      t = tf.keep(tf.scalar(v));
      constants.set(key, t);
    }
    return t;
  };
  // Pre-make the constant operands of tensor instructions, outside any tidy.
  for (const ins of low.instrs) for (const a of ins.args) if ('value' in a) constTensor(a.value);

  /** Per-replica sum over all axes but the first; a plain sum otherwise. */
  const reduceSum = (x: Tensor): Tensor => {
    if (K === undefined) return tf.sum(x);
    const axes = [];
    for (let i = 1; i < x.rank; i++) axes.push(i);
    return axes.length ? tf.sum(x, axes, true) : x;
  };
  /** A per-replica quantity [K,1,...] reshaped to the rank of parameter k. */
  const toRank = (x: Tensor, rank: number): Tensor => {
    if (K === undefined || x.rank === rank) return x;
    return tf.reshape(x, [K, ...new Array<number>(Math.max(0, rank - 1)).fill(1)]);
  };

  return {
    lowered: low,
    slots: low.slotNames.map((name, i) => ({ name, init: low.slotInits[i]! })),
    dispose() {
      for (const t of constants.values()) t.dispose();
      constants.clear();
    },
    step(ws, gs, states, lr, stepNo) {
      const np = gs.length;
      const ranks = gs.map((g) => g.rank);
      const regs: V[][] = new Array(low.nregs);
      if (low.w !== null) regs[low.w] = ws;
      regs[low.g] = gs;
      if (low.lr !== null) {
        regs[low.lr] = typeof lr === 'number' ? new Array<V>(np).fill(lr) : ranks.map((r) => toRank(lr, Math.max(r, 1)));
      }
      if (low.step !== null) regs[low.step] = new Array<V>(np).fill(stepNo);
      low.slotRegs.forEach((r, i) => (regs[r] = states.map((s) => s[i]!)));
      const val = (o: Operand, k: number): V => ('value' in o ? o.value : regs[o.reg]![k]!);
      // Numbers made this step (from lr or step) become tensors inside the
      // caller's tidy, once each per step.
      const stepScalars = new Map<number, Tensor>();
      const k = (v: number): Tensor => {
        let t = constants.get(v) ?? stepScalars.get(v);
        if (!t) stepScalars.set(v, (t = tf.scalar(v)));
        return t;
      };
      const tensorOf = (v: V): Tensor => (typeof v === 'number' ? k(v) : v);

      low.instrs.forEach((ins, n) => {
        const row = ins.row;
        const out: V[] = new Array(np);
        if (row === null) {
          for (let p = 0; p < np; p++) out[p] = val(ins.args[0]!, p);
        } else if (row.form === 'constant') {
          out.fill(row.value);
        } else if (row.form === 'elementwise') {
          const impl = row.tfNonneg && argNonneg[n]!.every(Boolean) ? row.tfNonneg : row.tf;
          for (let p = 0; p < np; p++) {
            const args = ins.args.map((a) => val(a, p));
            if (args.every((a) => typeof a === 'number')) out[p] = row.f(...(args as number[]));
            else if (row.tfMixed && args.some((a) => typeof a === 'number')) {
              // Numbers from literals only: what they make is constant too, so keep it.
              const fromLiterals = args.every((a, j) => typeof a !== 'number' || 'value' in ins.args[j]!);
              out[p] = row.tfMixed(tf, args, fromLiterals ? constTensor : k);
            }
            else out[p] = impl(tf, args.map(tensorOf));
          }
        } else {
          reduce(row, ins.args, out);
        }
        regs[ins.dst] = out;
      });

      function reduce(row: Extract<FnRow, { form: 'reduction' }>, argOps: readonly Operand[], out: V[]): void {
        const perParam = gs.map((_, k) => argOps.map((a) => val(a, k)));
        if (perParam.every((args) => args.every((a) => typeof a === 'number'))) {
          // No tensor involved: the function table's meaning for numbers.
          reduceNumbers(row, perParam as number[][]).forEach((v, k) => (out[k] = v));
          return;
        }
        const sums = perParam.map((args) => row.tfTerms(tf, args.map(tensorOf)).map(reduceSum));
        if (row.scope === 'tensor') {
          perParam.forEach((args, k) => (out[k] = row.tfFinish(tf, sums[k]!, args.map(tensorOf))));
          return;
        }
        // Global: add every parameter's sums (per replica), then finish each.
        const flat = (t: Tensor) => (K === undefined ? t : tf.reshape(t, [K]));
        const total = sums[0]!.map((_, j) => (np === 1 ? flat(sums[0]![j]!) : tf.addN(sums.map((s) => flat(s[j]!)))));
        perParam.forEach((args, k) => {
          const acc = total.map((t) => toRank(t, Math.max(ranks[k]!, 1)));
          out[k] = row.tfFinish(tf, acc, args.map(tensorOf));
        });
      }

      const asTensor = (v: V, like: Tensor): Tensor => {
        if (typeof v === 'number') return tf.fill(like.shape, v);
        if (v.shape.length === like.shape.length && v.shape.every((d, i) => d === like.shape[i])) return v;
        return tf.broadcastTo(v, like.shape);
      };
      const updates = gs.map((g, k) => asTensor(val(low.returns[0]!, k), g));
      const newStates = gs.map((g, k) => low.slotRegs.map((_, i) => asTensor(val(low.returns[i + 1]!, k), g)));
      return { updates, states: newStates };
    },
  };
}
