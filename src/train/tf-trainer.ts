/**
 * Trains a tfjs task for every rate of a learning-rate sweep: either as K
 * replicas stacked on a leading axis of one batched model (one forward, one
 * backward and one optimizer step per training step for all K rates), or as
 * K separate runs. Both start from the same seeded weights and see the same
 * batches, so they agree to float tolerance.
 *
 * Each replica has its own monitor: a replica that diverges is marked failed
 * at once and ignored from then on (its numbers stay in its own slice of the
 * stacked tensors, never reaching another replica's).
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

export function trainTfTask(
  tf: Tfjs,
  task: TfTask,
  ds: Dataset,
  program: Program,
  lrs: readonly number[],
  s: TrainSettings,
  mode: 'batched' | 'separate',
  /** Stack replicas even where the task prefers separate runs (tests, benchmarks). */
  force = false,
): SweepResult {
  const t0 = performance.now();
  let note: string | undefined;
  if (mode === 'batched' && lrs.length > 1) {
    if (!task.model.batchable) note = 'model cannot stack replicas: rates ran separately';
    else if (task.preferSeparate && !force) note = `${task.preferSeparate}: rates ran separately`;
    else {
      try {
        const runs = runGroup(tf, task, ds, program, lrs, lrs.length, s);
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
      runs.push(runGroup(tf, task, ds, program, [lr], null, s)[0]!);
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

function runGroup(tf: Tfjs, task: TfTask, ds: Dataset, program: Program, lrs: readonly number[], replicas: number | null, s: TrainSettings): RunResult[] {
  let result: RunResult[] = [];
  const compiled = compile(program, { tf, ...(s.hparams ? { hparams: s.hparams } : {}), ...(replicas !== null ? { replicas } : {}) });
  try {
    tf.tidy(() => {
      result = runGroupInner(tf, task, ds, compiled, lrs, replicas, s);
    });
  } finally {
    compiled.dispose();
  }
  return result;
}

function runGroupInner(
  tf: Tfjs,
  task: TfTask,
  ds: Dataset,
  compiled: ReturnType<typeof compile>,
  lrs: readonly number[],
  K: number | null,
  s: TrainSettings,
): RunResult[] {
  const specs = task.model.params;
  const ir = rng(task.name, s.seed, 'init');
  let params: Tensor[] = specs.map((p) => {
    const rule = s.init && p.init.kind !== 'zeros' && p.shape.length > 1 ? s.init : p.init;
    const v = initValues(p.shape, rule, ir);
    if (K === null) return tf.tensor(v, [...p.shape]);
    const one = tf.tensor(v, [1, ...p.shape]);
    return tf.tile(one, [K, ...p.shape.map(() => 1)]);
  });
  let states: Tensor[][] = params.map((w) => compiled.slots.map((sl) => tf.fill(w.shape, sl.init)));
  const xw = size(ds.xShape);
  const yw = ds.yKind === 'class' ? 1 : size(ds.yShape);
  const plan = batchPlan(s.batching, ds.train.n, s.batchSize, rng(task.name, s.seed, 'batches'));
  const monitors = lrs.map(() => new Monitor({ steps: s.steps, ...s.monitor }));
  let full: { x: Tensor; y: Tensor } | null = null;
  const forward = (ps: Tensor[], x: Tensor): Tensor => task.model.forward(tf, ps, x, K);

  for (let t = 1; t <= s.steps; t++) {
    const idx = plan.next();
    let x: Tensor;
    let y: Tensor;
    if (idx === null) {
      full ??= { x: tf.tensor(ds.train.x, [ds.train.n, ...ds.xShape]), y: targetTensor(tf, task, ds, ds.train.y, ds.train.n) };
      ({ x, y } = full);
    } else {
      x = tf.tensor(takeRows(ds.train.x, xw, idx), [idx.length, ...ds.xShape]);
      y = targetTensor(tf, task, ds, takeRows(ds.train.y, yw, idx), idx.length);
    }
    const factor = scheduleFactor(s.schedule, t, s.steps);
    const lrArg: number | Tensor = K === null ? lrs[0]! * factor : tf.tensor1d(lrs.map((l) => l * factor));
    let lossT: Tensor | undefined;
    const next = tf.tidy(() => {
      const f = (...ps: Tensor[]): Tensor => {
        const per = perExample(tf, task, forward(ps, x), y, K);
        const lv = tf.mean(per, -1);
        lossT = tf.keep(lv);
        return K === null ? lv : tf.sum(lv);
      };
      const grads = tf.grads(f)(params);
      const out = compiled.step(params, grads, states, lrArg, t);
      const np = params.map((w, i) => tf.sub(w, out.updates[i]!));
      return { np, ns: out.states };
    });
    const keep = new Set<Tensor>([...next.np, ...next.ns.flat()]);
    for (const w of params) if (!keep.has(w)) w.dispose();
    for (const st of states) for (const v of st) if (!keep.has(v)) v.dispose();
    params = next.np;
    states = next.ns;
    if (idx !== null) {
      x.dispose();
      y.dispose();
    }
    if (typeof lrArg !== 'number') lrArg.dispose();
    const losses = lossT!.dataSync();
    lossT!.dispose();
    let alive = 0;
    monitors.forEach((m, k) => {
      if (!m.failed && m.record(t, losses[k]!)) alive++;
    });
    if (alive === 0) break;
  }

  if (s.skipValidation) return lrs.map((lr, k) => ({ lr, loss: null, metric: null, curve: monitors[k]!.curve }));
  // Validation: every replica still standing, over the whole validation split.
  const n = ds.val.n;
  const R = K ?? 1;
  const lossSum = new Float64Array(R);
  const metricFn = task.metric;
  const correct = new Float64Array(R);
  const keepPreds = typeof metricFn === 'function';
  const predChunks: Float32Array[][] = lrs.map(() => []);
  for (let at = 0; at < n; at += VAL_CHUNK) {
    const m = Math.min(VAL_CHUNK, n - at);
    const rows = Int32Array.from({ length: m }, (_, i) => at + i);
    tf.tidy(() => {
      const x = tf.tensor(takeRows(ds.val.x, xw, rows), [m, ...ds.xShape]);
      const yv = takeRows(ds.val.y, yw, rows);
      const y = targetTensor(tf, task, ds, yv, m);
      const pred = forward(params, x);
      const per = perExample(tf, task, pred, y, K);
      const sums = tf.sum(per, -1).dataSync();
      for (let k = 0; k < R; k++) lossSum[k]! += K === null ? sums[0]! : sums[k]!;
      if (metricFn === 'accuracy' || keepPreds) {
        const pd = pred.dataSync() as Float32Array;
        const per1 = pd.length / R;
        for (let k = 0; k < R; k++) {
          const slice = pd.subarray(k * per1, (k + 1) * per1);
          if (keepPreds) predChunks[k]!.push(Float32Array.from(slice));
          if (metricFn === 'accuracy') correct[k]! += countCorrect(slice, yv as Int32Array, m);
        }
      }
    });
  }
  return lrs.map((lr, k) => {
    const mon = monitors[k]!;
    let loss: number | null = null;
    let metric: number | null = null;
    if (!mon.failed) {
      const v = lossSum[k]! / n;
      if (!Number.isFinite(v)) mon.fail(s.steps, `non-finite validation loss ${v}`);
      else {
        loss = v;
        if (metricFn === 'accuracy') metric = correct[k]! / n;
        else if (metricFn === 'loss') metric = v;
        else {
          const all = concat(predChunks[k]!);
          metric = metricFn(all, ds.val.y, n);
        }
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
  });
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
