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
import { initValues } from './init.js';
import { Monitor } from './monitor.js';
import type { RunResult, TrainSettings } from './settings.js';
import { scheduleFactor } from './schedule.js';

export type SweepMode = 'batched' | 'separate' | 'auto';

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
        const runs = await runGroup(tf, task, ds, program, lrs, lrs.length, s);
        const ms = performance.now() - t0;
        return { runs, batched: true, trainMs: ms, stepsPerSecond: stepsTaken(runs, s.steps) / (ms / 1000) };
      } catch (e) {
        note = `batched run failed (${oneLine(e)}): rates ran separately`;
        if (process.env.OPTEVO_DEBUG) console.error(e);
      }
    }
  }
  const runs: RunResult[] = [];
  for (const lr of lrs) {
    try {
      runs.push((await runGroup(tf, task, ds, program, [lr], null, s))[0]!);
    } catch (e) {
      runs.push({ lr, loss: null, metric: null, curve: [], failure: `error: ${oneLine(e)}` });
    }
  }
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

/** Per-example loss [(K,) B]. */
function perExample(tf: Tfjs, task: TfTask, pred: Tensor, y: Tensor, replicas: number | null): Tensor {
  const lead = replicas === null ? 1 : 2;
  let out: Tensor;
  if (task.loss === 'cross-entropy') {
    out = tf.sub(tf.logSumExp(pred, -1), tf.sum(tf.mul(pred, y), -1));
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

async function runGroup(tf: Tfjs, task: TfTask, ds: Dataset, program: Program, lrs: readonly number[], replicas: number | null, s: TrainSettings): Promise<RunResult[]> {
  const compiled = compile(program, { tf, ...(s.hparams ? { hparams: s.hparams } : {}), ...(replicas !== null ? { replicas } : {}) });
  // No tf.tidy around an await: the tensors that live across steps are owned here and disposed in `finally`.
  const owned = new Owned();
  try {
    const params = initialParams(tf, task, s, replicas, owned);
    const monitors = lrs.map(() => new Monitor({ steps: s.steps, ...s.monitor }));
    const trained = await trainSteps(tf, task, ds, compiled, params, lrs, replicas, s, monitors, owned);
    if (s.skipValidation) return lrs.map((lr, k) => ({ lr, loss: null, metric: null, curve: monitors[k]!.curve }));
    const v = await validate(tf, task, ds, trained, replicas, lrs.length);
    return lrs.map((lr, k) => runResult(lr, monitors[k]!, s.steps, v, k, task, ds));
  } finally {
    owned.disposeAll();
    compiled.dispose();
  }
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

function initialParams(tf: Tfjs, task: TfTask, s: TrainSettings, K: number | null, owned: Owned): Tensor[] {
  const ir = rng(task.name, s.seed, 'init');
  return task.model.params.map((p) => {
    const rule = s.init && p.init.kind !== 'zeros' && p.shape.length > 1 ? s.init : p.init;
    const v = initValues(p.shape, rule, ir);
    if (K === null) return owned.add(tf.tensor(v, [...p.shape]));
    return owned.add(tf.tidy(() => tf.tile(tf.tensor(v, [1, ...p.shape]), [K, ...p.shape.map(() => 1)])));
  });
}

/**
 * The training loop. Each step's losses stay on the device until READ_EVERY
 * of them are pending; then one read hands them to the monitors in step
 * order. Returns the trained parameters (owned).
 */
async function trainSteps(
  tf: Tfjs,
  task: TfTask,
  ds: Dataset,
  compiled: ReturnType<typeof compile>,
  params0: Tensor[],
  lrs: readonly number[],
  K: number | null,
  s: TrainSettings,
  monitors: Monitor[],
  owned: Owned,
): Promise<Tensor[]> {
  let params = params0;
  let states: Tensor[][] = params.map((w) => compiled.slots.map((sl) => owned.add(tf.fill(w.shape, sl.init))));
  const xw = size(ds.xShape);
  const yw = ds.yKind === 'class' ? 1 : size(ds.yShape);
  const plan = batchPlan(s.batching, ds.train.n, s.batchSize, rng(task.name, s.seed, 'batches'));
  let full: { x: Tensor; y: Tensor } | null = null;
  const forward = (ps: Tensor[], x: Tensor): Tensor => task.model.forward(tf, ps, x, K);
  let pending: Tensor[] = [];
  let firstPending = 1;

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
      monitors.forEach((m, k) => {
        if (!m.failed && m.record(firstPending + i, losses[i * R + k]!)) n++;
      });
      alive = n > 0;
    }
    return alive;
  };

  for (let t = 1; t <= s.steps; t++) {
    const idx = plan.next();
    let x: Tensor;
    let y: Tensor;
    if (idx === null) {
      full ??= { x: owned.add(tf.tensor(ds.train.x, [ds.train.n, ...ds.xShape])), y: owned.add(targetTensor(tf, task, ds, ds.train.y, ds.train.n)) };
      ({ x, y } = full);
    } else {
      x = tf.tensor(takeRows(ds.train.x, xw, idx), [idx.length, ...ds.xShape]);
      y = targetTensor(tf, task, ds, takeRows(ds.train.y, yw, idx), idx.length);
    }
    const factor = scheduleFactor(s.schedule, t, s.steps);
    const lrArg: number | Tensor = K === null ? lrs[0]! * factor : tf.tensor1d(lrs.map((l) => l * factor));
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
        const out = compiled.step(params, grads, states, lrArg, t);
        const np = params.map((w, i) => tf.sub(w, out.updates[i]!));
        return { np, ns: out.states, loss: lossT! };
      });
      owned.swap([...params, ...states.flat()], [...next.np, ...next.ns.flat()]);
      params = next.np;
      states = next.ns;
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
    if ((pending.length >= READ_EVERY || t === s.steps) && !(await drain())) break;
  }
  await drain();
  return params;
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
