/**
 * Trains a tfjs task for every rate of a learning-rate sweep: either as K
 * replicas stacked on a leading axis of one batched model (one forward, one
 * backward and one optimizer step per training step for all K rates), or as
 * K separate runs. Both start from the same seeded weights and see the same
 * batches, so they agree to float tolerance.
 *
 * Each replica has its own monitor: a replica that diverges is marked failed
 * and ignored from then on (its numbers stay in its own slice of the stacked
 * tensors, never reaching another replica's).
 *
 * Nothing here reads a tensor synchronously. On a GPU a synchronous read
 * stalls the pipeline every step (and tfjs-backend-webgpu cannot do one in
 * Node at all: it needs an OffscreenCanvas). Training losses stay on the
 * device and are read back with one `await data()` every READ_EVERY steps;
 * the monitors then see every step's loss in order, so divergence, plateaus
 * and curves are exactly what a per-step read gives. The only difference is
 * that a sweep whose every replica has failed notices it up to READ_EVERY - 1
 * steps later, which changes no result.
 */
import type { Program } from '../../dsl/ast.js';
import { compile } from '../../dsl/compile.js';
import { type Dataset, size, takeRows } from '../data/dataset.js';
import { rng } from '../data/rng.js';
import type { Tensor, Tfjs, TfTask } from '../tasks/types.js';
import { batchPlan } from './batches.js';
import { type FusedStep, fusedStep } from './fused-step.js';
import { initValues } from './init.js';
import { Monitor } from './monitor.js';
import type { RunResult, TrainSettings } from './settings.js';
import { scheduleFactor } from './schedule.js';
import { rungEnds, survivors } from './halving.js';

export type { SweepKind } from './halving.js';

export interface SweepResult {
  runs: RunResult[];
  /** True when the rates ran as stacked replicas. */
  batched: boolean;
  /** Why the sweep did not run batched, when it did not. */
  note?: string;
  trainMs: number;
  /** Training steps taken (per rate) per second of training. */
  stepsPerSecond: number;
}

/** Rows of validation data per forward pass. */
const VAL_CHUNK = 250;
/** Training steps between loss read-backs. */
export const READ_EVERY = 16;

export async function trainTfTask(
  tf: Tfjs,
  task: TfTask,
  ds: Dataset,
  program: Program,
  lrs: readonly number[],
  s: TrainSettings,
  mode: 'batched' | 'separate',
  /** Stack replicas even where the task prefers separate runs (tests, benchmarks). */
  force = false,
): Promise<SweepResult> {
  const t0 = performance.now();
  let note: string | undefined;
  if (mode === 'batched' && lrs.length > 1) {
    if (!task.model.batchable) note = 'model cannot stack replicas: rates ran separately';
    else if (task.preferSeparate && !force && tf.getBackend() !== 'webgpu') note = `${task.preferSeparate}: rates ran separately`;
    else {
      try {
        const runs = await runSweep(tf, task, ds, program, lrs, true, s);
        const ms = performance.now() - t0;
        return { runs, batched: true, trainMs: ms, stepsPerSecond: stepsTaken(runs, s.steps) / (ms / 1000) };
      } catch (e) {
        note = `batched run failed (${oneLine(e)}): rates ran separately`;
        if (process.env.OPTEVO_DEBUG) console.error(e);
      }
    }
  }
  const runs = await runSweep(tf, task, ds, program, lrs, false, s);
  const ms = performance.now() - t0;
  return { runs, batched: false, ...(note ? { note } : {}), trainMs: ms, stepsPerSecond: (stepsTaken(runs, s.steps) * runs.length) / (ms / 1000) };
}

function stepsTaken(runs: RunResult[], steps: number): number {
  return runs.length ? steps : 0;
}

function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

/** Targets as the loss wants them: one-hot rows for built-in cross-entropy, else as stored. */
function targetTensor(tf: Tfjs, task: TfTask, ds: Dataset, y: Float32Array | Int32Array, n: number): Tensor {
  if (ds.yKind === 'class') {
    if (task.loss === 'cross-entropy') {
      const c = ds.classes!;
      const oh = new Float32Array(n * c);
      for (let i = 0; i < n; i++) oh[i * c + y[i]!] = 1;
      return tf.tensor2d(oh, [n, c]);
    }
    return tf.tensor1d(Int32Array.from(y), 'int32');
  }
  return tf.tensor(Float32Array.from(y), [n, ...ds.yShape]);
}

/**
 * Cross-entropy of logits against one-hot rows, per example: logsumexp(p) -
 * sum(p y), with its gradient written out as (softmax(p) - y) dy. tfjs's own
 * gradient of logSumExp goes through that of its max, a broadcast Equal that
 * wasm runs element by element (1 ms a step on the standard MLP, 8 rates).
 */
function crossEntropy(tf: Tfjs, pred: Tensor, y: Tensor): Tensor {
  const op = tf.customGrad(((p: Tensor, save: (ts: Tensor[]) => void) => {
    const lse = tf.logSumExp(p, -1, true);
    save([p, lse]);
    return {
      value: tf.sub(tf.squeeze(lse, [-1]), tf.sum(tf.mul(p, y), -1)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.mul(tf.expandDims(dy, -1), tf.sub(tf.exp(tf.sub(saved[0]!, saved[1]!)), y))],
    };
  }) as never) as (p: Tensor) => Tensor;
  return op(pred);
}

/** Per-example loss [(K,) B]. */
function perExample(tf: Tfjs, task: TfTask, pred: Tensor, y: Tensor, replicas: number | null): Tensor {
  const lead = replicas === null ? 1 : 2;
  let out: Tensor;
  if (task.loss === 'cross-entropy') {
    out = crossEntropy(tf, pred, y);
  } else if (task.loss === 'mse') {
    const d = tf.square(tf.sub(pred, y));
    const axes = [];
    for (let i = lead; i < d.rank; i++) axes.push(i);
    out = axes.length ? tf.mean(d, axes) : d;
  } else {
    out = task.loss(tf, pred, y);
  }
  if (out.rank !== lead) throw new Error(`loss gave shape [${out.shape.join(', ')}], expected one value per example${replicas === null ? '' : ' per replica'}`);
  if (replicas !== null && out.shape[0] !== replicas) throw new Error(`loss lost the replica axis (shape [${out.shape.join(', ')}])`);
  return out;
}

/** Decay of the smoothed training loss the rungs rank by (about a 20-step window). */
const RANK_DECAY = 0.95;

/** Rates trained together: K stacked replicas (K a number) or one run (K null). */
interface Group {
  K: number | null;
  /** Indices of this group's rates in the sweep, in replica order. */
  idx: number[];
  compiled: ReturnType<typeof compile>;
  /** The program as one kernel per step, where the backend allows (fused-step.ts); else the compiled ops run. */
  fused: FusedStep | null;
  params: Tensor[];
  states: Tensor[][];
  plan: ReturnType<typeof batchPlan>;
  full: { x: Tensor; y: Tensor } | null;
  /** Steps done. */
  t: number;
  /** False once every rate of the group has failed. */
  alive: boolean;
  owned: Owned;
}

async function runSweep(tf: Tfjs, task: TfTask, ds: Dataset, program: Program, lrs: readonly number[], stacked: boolean, s: TrainSettings): Promise<RunResult[]> {
  const monitors = lrs.map(() => new Monitor({ steps: s.steps, ...s.monitor }));
  const smoothed = new Float64Array(lrs.length).fill(NaN);
  const first = new Float64Array(lrs.length).fill(NaN);
  const stoppedAt: (number | undefined)[] = lrs.map(() => undefined);
  const errors: (string | undefined)[] = lrs.map(() => undefined);
  const groups: Group[] = [];
  const ranking: RunResult['ranking'][] = lrs.map(() => (s.recordRanking ? [] : undefined));
  const ctx: StepContext = { tf, task, ds, s, lrs, monitors, smoothed, first, rankAt: rankSteps(s), ranking };
  try {
    const all = lrs.map((_, i) => i);
    if (stacked) groups.push(newGroup(tf, task, ds, program, s, all, lrs.length));
    else for (const i of all) groups.push(newGroup(tf, task, ds, program, s, [i], null));
    const ends = rungEnds(s.steps, s.sweep ?? 'full', s.halving);
    for (const end of ends) {
      for (const g of groups) {
        if (!g.alive) continue;
        if (stacked) await advance(ctx, g, end);
        else {
          // A separate run that throws fails its own rate only.
          try {
            await advance(ctx, g, end);
          } catch (e) {
            errors[g.idx[0]!] = `error: ${oneLine(e)}`;
            g.alive = false;
          }
        }
      }
      if (end === s.steps) break;
      const running = all.filter((i) => !monitors[i]!.failed && errors[i] === undefined && stoppedAt[i] === undefined);
      const lead = running.reduce((b, i) => (smoothed[i]! < smoothed[b]! ? i : b), running[0] ?? 0);
      const keep = new Set(survivors(running, smoothed, s.halving, first[lead]));
      for (const i of running) if (!keep.has(i)) stoppedAt[i] = end;
      for (const g of groups) if (g.alive) shrink(tf, program, s, g, g.idx.filter((i) => keep.has(i)));
    }
    // Rates that left their group (failed, or stopped by a rung) keep what their monitor saw.
    const out: RunResult[] = lrs.map((lr, i) => {
      const m = monitors[i]!;
      return { lr, loss: null, metric: null, curve: m.curve, ...(m.failure ? { failure: m.failure } : {}), ...(m.plateauAt !== undefined ? { plateauAt: m.plateauAt } : {}) };
    });
    for (const g of groups) {
      for (const i of g.idx) {
        if (errors[i] !== undefined) out[i] = { lr: lrs[i]!, loss: null, metric: null, curve: [], failure: errors[i] };
      }
      if (s.skipValidation || g.idx.length === 0 || g.idx.every((i) => errors[i] !== undefined)) continue;
      let v: Validation;
      try {
        v = await validate(tf, task, ds, g.params, g.K, g.idx.length);
      } catch (e) {
        if (stacked) throw e;
        out[g.idx[0]!] = { lr: lrs[g.idx[0]!]!, loss: null, metric: null, curve: [], failure: `error: ${oneLine(e)}` };
        continue;
      }
      g.idx.forEach((i, k) => (out[i] = runResult(lrs[i]!, monitors[i]!, s.steps, v, k, task, ds)));
    }
    for (const [i, at] of stoppedAt.entries()) {
      if (at !== undefined) out[i] = { ...out[i]!, stoppedAt: at };
    }
    for (const [i, r] of ranking.entries()) if (r) out[i] = { ...out[i]!, ranking: r };
    return out;
  } finally {
    for (const g of groups) {
      g.owned.disposeAll();
      g.compiled.dispose();
    }
  }
}

function compileFor(tf: Tfjs, program: Program, s: TrainSettings, K: number | null): ReturnType<typeof compile> {
  return compile(program, { tf, ...(s.hparams ? { hparams: s.hparams } : {}), ...(K !== null ? { replicas: K } : {}) });
}

function newGroup(tf: Tfjs, task: TfTask, ds: Dataset, program: Program, s: TrainSettings, idx: number[], K: number | null): Group {
  const compiled = compileFor(tf, program, s, K);
  // No tf.tidy around an await: the tensors that live across steps are owned by the group and disposed at the end.
  const owned = new Owned();
  try {
    const params = initialParams(tf, task, s, K, owned);
    const states = params.map((w) => compiled.slots.map((sl) => owned.add(tf.fill(w.shape, sl.init))));
    const plan = batchPlan(s.batching, ds.train.n, s.batchSize, rng(task.name, s.seed, 'batches'));
    const fused = s.fuse === false ? null : fusedStep(tf, compiled.lowered, params.reduce((n, w) => n + w.size, 0));
    return { K, idx, compiled, fused, params, states, plan, full: null, t: 0, alive: true, owned };
  } catch (e) {
    owned.disposeAll();
    compiled.dispose();
    throw e;
  }
}

/**
 * Keeps only the rates `keep` (a subset of the group's, in order): a stacked
 * group gathers their replicas' weights and state and is compiled again for
 * the smaller K; a group left with none is ended.
 */
function shrink(tf: Tfjs, program: Program, s: TrainSettings, g: Group, keep: number[]): void {
  if (keep.length === g.idx.length) return;
  if (keep.length === 0 || g.K === null) {
    g.alive = keep.length > 0;
    if (!g.alive) {
      g.owned.disposeAll();
      g.params = [];
      g.states = [];
      g.idx = [];
    }
    return;
  }
  const rows = tf.tensor1d(keep.map((i) => g.idx.indexOf(i)), 'int32');
  try {
    const np = g.params.map((p) => g.owned.add(tf.gather(p, rows)));
    const ns = g.states.map((st) => st.map((v) => g.owned.add(tf.gather(v, rows))));
    g.owned.swap([...g.params, ...g.states.flat()], [...np, ...ns.flat()]);
    g.params = np;
    g.states = ns;
  } finally {
    rows.dispose();
  }
  g.compiled.dispose();
  g.K = keep.length;
  g.compiled = compileFor(tf, program, s, g.K);
  g.idx = keep;
}

/** Tensors that outlive one step; whatever is still held when the run ends (or throws) is disposed. */
class Owned {
  private readonly held = new Set<Tensor>();
  add<T extends Tensor>(t: T): T {
    this.held.add(t);
    return t;
  }
  /** Gives up `old` tensors that are not among `kept`, and takes `kept`. */
  swap(old: readonly Tensor[], kept: readonly Tensor[]): void {
    const keep = new Set(kept);
    for (const t of old) {
      if (keep.has(t)) continue;
      this.held.delete(t);
      t.dispose();
    }
    for (const t of kept) this.held.add(t);
  }
  disposeAll(): void {
    for (const t of this.held) t.dispose();
    this.held.clear();
  }
}

/** Initial weights per task, seed and rule, made once per worker (every rate and replica starts from them). */
const initCache = new WeakMap<TfTask, Map<string, Float32Array[]>>();

function initialValues(task: TfTask, s: TrainSettings): Float32Array[] {
  let m = initCache.get(task);
  if (!m) initCache.set(task, (m = new Map()));
  const key = JSON.stringify([s.seed, s.init ?? null]);
  let vs = m.get(key);
  if (!vs) {
    const ir = rng(task.name, s.seed, 'init');
    vs = task.model.params.map((p) => initValues(p.shape, s.init && p.init.kind !== 'zeros' && p.shape.length > 1 ? s.init : p.init, ir));
    m.set(key, vs);
  }
  return vs;
}

function initialParams(tf: Tfjs, task: TfTask, s: TrainSettings, K: number | null, owned: Owned): Tensor[] {
  const vs = initialValues(task, s);
  return task.model.params.map((p, i) => {
    const v = vs[i]!;
    if (K === null) return owned.add(tf.tensor(v, [...p.shape]));
    // K copies made here: wasm's Tile takes 40 ms for the standard MLP's first layer.
    const all = new Float32Array(K * v.length);
    for (let k = 0; k < K; k++) all.set(v, k * v.length);
    return owned.add(tf.tensor(all, [K, ...p.shape]));
  });
}

interface StepContext {
  tf: Tfjs;
  task: TfTask;
  ds: Dataset;
  s: TrainSettings;
  lrs: readonly number[];
  monitors: Monitor[];
  /** Per rate: the training loss smoothed over recent steps (what halving ranks by). */
  smoothed: Float64Array;
  /** Per rate: the loss of the first step (the same for every rate: same weights, same batch). */
  first: Float64Array;
  /** Steps at which `ranking` records the smoothed losses (empty unless asked for). */
  rankAt: ReadonlySet<number>;
  ranking: RunResult['ranking'][];
}

/** The steps of `recordRanking`: the first (where every rate has the same loss), then every 1/n of the run, the last step excluded. */
function rankSteps(s: TrainSettings): Set<number> {
  const n = s.recordRanking ?? 0;
  const out = new Set<number>(n > 0 ? [1] : []);
  for (let k = 1; k < n; k++) {
    const t = Math.round((k * s.steps) / n);
    if (t >= 1 && t < s.steps) out.add(t);
  }
  return out;
}

/**
 * The training loop: trains group `g` from its step g.t + 1 to step `end`.
 * Each step's losses stay on the device until READ_EVERY of them are
 * pending; then one read hands them to the monitors in step order (and all
 * are read at `end`). Sets g.alive false once every rate of the group has failed.
 */
async function advance(c: StepContext, g: Group, end: number): Promise<void> {
  const { tf, task, ds, s, monitors, smoothed, first, rankAt, ranking } = c;
  const K = g.K;
  const xw = size(ds.xShape);
  const yw = ds.yKind === 'class' ? 1 : size(ds.yShape);
  const forward = (ps: Tensor[], x: Tensor): Tensor => task.model.forward(tf, ps, x, K);
  const owned = g.owned;
  const idx0 = g.idx;
  const lrs = idx0.map((i) => c.lrs[i]!);
  let pending: Tensor[] = [];
  let firstPending = g.t + 1;

  /** Reads the pending losses and feeds the monitors; false once every replica has failed. */
  const drain = async (): Promise<boolean> => {
    if (pending.length === 0) return true;
    const stacked = owned.add(pending.length === 1 ? pending[0]! : tf.stack(pending));
    owned.swap(pending, [stacked]);
    pending = [];
    const losses = await stacked.data();
    owned.swap([stacked], []);
    const R = lrs.length;
    let alive = true;
    for (let i = 0; i * R < losses.length; i++) {
      let n = 0;
      idx0.forEach((r, k) => {
        const m = monitors[r]!;
        const l = losses[i * R + k]!;
        if (!m.failed && m.record(firstPending + i, l)) {
          n++;
          smoothed[r] = Number.isNaN(smoothed[r]!) ? l : RANK_DECAY * smoothed[r]! + (1 - RANK_DECAY) * l;
          if (firstPending + i === 1) first[r] = l;
        }
        if (rankAt.has(firstPending + i)) ranking[r]?.push({ step: firstPending + i, smoothed: m.failed ? null : smoothed[r]! });
      });
      alive = n > 0;
    }
    return alive;
  };

  for (let t = g.t + 1; t <= end; t++) {
    const idx = g.plan.next();
    let x: Tensor;
    let y: Tensor;
    if (idx === null) {
      g.full ??= { x: owned.add(tf.tensor(ds.train.x, [ds.train.n, ...ds.xShape])), y: owned.add(targetTensor(tf, task, ds, ds.train.y, ds.train.n)) };
      ({ x, y } = g.full);
    } else {
      x = tf.tensor(takeRows(ds.train.x, xw, idx), [idx.length, ...ds.xShape]);
      y = targetTensor(tf, task, ds, takeRows(ds.train.y, yw, idx), idx.length);
    }
    const factor = scheduleFactor(s.schedule, t, s.steps);
    const fused = g.fused;
    const lrArg: number | Tensor = K === null || fused ? lrs[0]! * factor : tf.tensor1d(lrs.map((l) => l * factor));
    const params = g.params;
    const states = g.states;
    try {
      const next = tf.tidy(() => {
        let lossT: Tensor | undefined;
        const f = (...ps: Tensor[]): Tensor => {
          const per = perExample(tf, task, forward(ps, x), y, K);
          const lv = tf.mean(per, -1);
          lossT = tf.keep(lv);
          return K === null ? lv : tf.sum(lv);
        };
        const grads = tf.grads(f)(params);
        if (fused) {
          const out = fused(params, grads, states, lrs.map((l) => l * factor), t);
          return { np: out.params, ns: out.states, loss: lossT! };
        }
        const out = g.compiled.step(params, grads, states, lrArg, t);
        const np = params.map((w, i) => tf.sub(w, out.updates[i]!));
        return { np, ns: out.states, loss: lossT! };
      });
      owned.swap([...params, ...states.flat()], [...next.np, ...next.ns.flat()]);
      g.params = next.np;
      g.states = next.ns;
      g.t = t;
      if (pending.length === 0) firstPending = t;
      pending.push(owned.add(K === null ? next.loss.reshape([1]) : next.loss));
      if (K === null) next.loss.dispose();
    } finally {
      if (idx !== null) {
        x.dispose();
        y.dispose();
      }
      if (typeof lrArg !== 'number') lrArg.dispose();
    }
    if ((pending.length >= READ_EVERY || t === end) && !(await drain())) {
      g.alive = false;
      break;
    }
  }
  if (!(await drain())) g.alive = false;
}

interface Validation {
  lossSum: Float64Array;
  correct: Float64Array;
  predChunks: Float32Array[][];
  n: number;
}

/** Validation of every replica over the whole validation split, read back chunk by chunk. */
async function validate(tf: Tfjs, task: TfTask, ds: Dataset, params: Tensor[], K: number | null, nRuns: number): Promise<Validation> {
  const n = ds.val.n;
  const R = K ?? 1;
  const xw = size(ds.xShape);
  const yw = ds.yKind === 'class' ? 1 : size(ds.yShape);
  const lossSum = new Float64Array(R);
  const metricFn = task.metric;
  const correct = new Float64Array(R);
  const keepPreds = typeof metricFn === 'function';
  const predChunks: Float32Array[][] = Array.from({ length: nRuns }, () => []);
  for (let at = 0; at < n; at += VAL_CHUNK) {
    const m = Math.min(VAL_CHUNK, n - at);
    const rows = Int32Array.from({ length: m }, (_, i) => at + i);
    const yv = takeRows(ds.val.y, yw, rows);
    const wantPreds = metricFn === 'accuracy' || keepPreds;
    const [sums, pred] = tf.tidy((): [Tensor, Tensor | undefined] => {
      const x = tf.tensor(takeRows(ds.val.x, xw, rows), [m, ...ds.xShape]);
      const y = targetTensor(tf, task, ds, yv, m);
      const p = task.model.forward(tf, params, x, K);
      const per = perExample(tf, task, p, y, K);
      return [tf.sum(per, -1), wantPreds ? p : undefined];
    }) as [Tensor, Tensor | undefined];
    try {
      const sv = await sums.data();
      for (let k = 0; k < R; k++) lossSum[k]! += K === null ? sv[0]! : sv[k]!;
      if (pred) {
        const pd = (await pred.data()) as Float32Array;
        const per1 = pd.length / R;
        for (let k = 0; k < R; k++) {
          const slice = pd.subarray(k * per1, (k + 1) * per1);
          if (keepPreds) predChunks[k]!.push(Float32Array.from(slice));
          if (metricFn === 'accuracy') correct[k]! += countCorrect(slice, yv as Int32Array, m);
        }
      }
    } finally {
      sums.dispose();
      pred?.dispose();
    }
  }
  return { lossSum, correct, predChunks, n };
}

function runResult(lr: number, mon: Monitor, steps: number, v: Validation, k: number, task: TfTask, ds: Dataset): RunResult {
  let loss: number | null = null;
  let metric: number | null = null;
  if (!mon.failed) {
    const l = v.lossSum[k]! / v.n;
    if (!Number.isFinite(l)) mon.fail(steps, `non-finite validation loss ${l}`);
    else {
      loss = l;
      if (task.metric === 'accuracy') metric = v.correct[k]! / v.n;
      else if (task.metric === 'loss') metric = l;
      else metric = task.metric(concat(v.predChunks[k]!), ds.val.y, v.n);
    }
  }
  return {
    lr,
    loss,
    metric,
    curve: mon.curve,
    ...(mon.failure ? { failure: mon.failure } : {}),
    ...(mon.plateauAt !== undefined ? { plateauAt: mon.plateauAt } : {}),
  };
}

function countCorrect(pred: Float32Array, labels: Int32Array, n: number): number {
  const c = pred.length / n;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (pred[i * c + j]! > pred[i * c + best]!) best = j;
    if (best === labels[i]) ok++;
  }
  return ok;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
