/**
 * `optevo eval newton|hessianFree`: the second-order library optimizers on
 * the full-batch proxy tasks, at equal compute with AdamW.
 *
 * They run full-batch (curvature from a mini-batch is another method): a
 * task that trains on mini-batches needs `--batching full`, which AdamW's
 * reference then uses too. The budget is the task's steps counted in
 * gradient evaluations: AdamW spends one per step; newton and hessianFree
 * spend their losses, gradients and curvature products (COST in
 * curvature.ts), and stop at the first iteration that reaches the budget.
 * Each task reports iterations and gradient-evaluation equivalents beside
 * the loss, and a score against AdamW's best rate (the usual normalised
 * score). The rate swept is the step scale `learningRate` (default 1 only).
 *
 * Curvature: Gauss-Newton on tfjs tasks (their loss is a convex loss of the
 * model's outputs), the Hessian on the closed-form tasks (the quadratic,
 * where they are equal, and Rosenbrock), which come as one tfjs loss.
 */
import * as tf from '@tensorflow/tfjs';
import type { SuiteName } from '../tasks/types.js';
import { seedProgram } from '../../seeds/index.js';
import { type BackendName, initBackend } from '../backend.js';
import { rng } from '../data/rng.js';
import { type Evaluation, type TaskEvaluation, evaluate, normalisedScore } from '../evaluate.js';
import { TaskRegistry } from '../tasks/registry.js';
import type { Batching, Task, TfTask } from '../tasks/types.js';
import { initValues } from '../train/init.js';
import type { ClosureOptimizer } from './closure-optimizer.js';
import { HessianFreeOptimizer, type HessianFreeHparams } from './hessian-free.js';
import { NewtonOptimizer, type NewtonHparams } from './newton.js';
import type { SecondOrderName } from './index.js';
import { type SplitLoss, splitLoss } from './split-loss.js';

/** Every option may be left out or given as undefined: either way its default applies. */
export interface SecondOrderEvalOptions {
  tasks?: string[] | undefined;
  suite?: SuiteName | undefined;
  /** The budget in gradient evaluations (default: each task's steps). */
  steps?: number | undefined;
  seed?: number | undefined;
  backend?: BackendName | undefined;
  /** Step scales to sweep (default [1]). */
  lrs?: readonly number[] | undefined;
  batching?: Batching | undefined;
  registry?: TaskRegistry | undefined;
  hparams?: Partial<NewtonHparams & HessianFreeHparams> | undefined;
  /** False: skip the AdamW reference. */
  reference?: boolean | undefined;
}

export interface SecondOrderTaskEvaluation extends TaskEvaluation {
  /** Iterations of the optimizer and what they cost, at the best rate. */
  iterations: number;
  gradientEquivalents: number;
  budget: number;
  curvature?: string;
}

interface Problem {
  vars: tf.Variable[];
  /** The full-batch training loss (a split loss for tfjs tasks). */
  loss: () => tf.Scalar;
  validate(): Promise<{ loss: number; metric: number }>;
  dispose(): void;
}

function arrayProblem(task: Extract<Task, { kind: 'array' }>, seed: number): Problem {
  const p = task.setup(seed);
  if (!p.tfLoss) throw new Error(`task '${task.name}' has no tfjs form of its loss, which second-order methods need`);
  const vars = p.init().map((w, i) => tf.variable(tf.tensor(Float32Array.from(w)), true));
  return {
    vars,
    loss: () => p.tfLoss!(tf, vars),
    validate: async () => p.validate(await Promise.all(vars.map(async (v) => Float64Array.from(await v.data())))),
    dispose: () => vars.forEach((v) => v.dispose()),
  };
}

function tfProblem(task: TfTask, seed: number): Problem {
  const ds = task.data(seed);
  const ir = rng(task.name, seed, 'init');
  // The same initial weights as the trainer gives every optimizer (same rule, same stream).
  const vars = task.model.params.map((p, i) => tf.variable(tf.tensor(initValues(p.shape, p.init, ir), [...p.shape]), true));
  const tensors = (s: typeof ds.train) => {
    const x = tf.tensor(s.x, [s.n, ...ds.xShape]);
    let y: tf.Tensor;
    if (ds.yKind === 'class' && task.loss === 'cross-entropy') y = tf.oneHot(tf.tensor1d(Int32Array.from(s.y), 'int32'), ds.classes!).toFloat();
    else if (ds.yKind === 'class') y = tf.tensor1d(Int32Array.from(s.y), 'int32');
    else y = tf.tensor(Float32Array.from(s.y), [s.n, ...ds.yShape]);
    return { x, y };
  };
  const train = tensors(ds.train);
  const val = tensors(ds.val);
  const splitFor = (d: { x: tf.Tensor; y: tf.Tensor }): SplitLoss => {
    const out = () => task.model.forward(tf, vars, d.x, null);
    if (task.loss === 'cross-entropy') return splitLoss(out, 'softmax-cross-entropy', d.y);
    if (task.loss === 'mse') return splitLoss(out, 'mse', d.y);
    const lossFn = task.loss;
    return splitLoss(out, (z) => tf.mean(lossFn(tf, z, d.y)) as tf.Scalar);
  };
  const trainLoss = splitFor(train);
  const valLoss = splitFor(val);
  return {
    vars,
    loss: trainLoss,
    validate: async () => {
      const [l, pred] = tf.tidy(() => {
        const z = valLoss.outputs();
        return [valLoss.loss(z), z] as const;
      });
      const loss = (await l.data())[0]!;
      const p = (await pred.data()) as Float32Array;
      l.dispose();
      pred.dispose();
      let metric = loss;
      if (task.metric === 'accuracy') {
        const c = p.length / ds.val.n;
        let right = 0;
        for (let i = 0; i < ds.val.n; i++) {
          let best = 0;
          for (let k = 1; k < c; k++) if (p[i * c + k]! > p[i * c + best]!) best = k;
          if (best === ds.val.y[i]) right++;
        }
        metric = right / ds.val.n;
      } else if (typeof task.metric === 'function') metric = task.metric(p, ds.val.y, ds.val.n);
      return { loss, metric };
    },
    dispose: () => {
      vars.forEach((v) => v.dispose());
      for (const t of [train.x, train.y, val.x, val.y]) t.dispose();
    },
  };
}

function make(name: SecondOrderName, task: Task, lr: number, hparams: SecondOrderEvalOptions['hparams']): { opt: ClosureOptimizer; curvature?: string } {
  if (name === 'newton') {
    const { learningRate: _, curvature: _c, maxCgIterations: _m, cgTolerance: _t, cgDecay: _d, dampingIncrease: _i, dampingDecrease: _r, ...h } = hparams ?? {};
    return { opt: new NewtonOptimizer({ ...h, learningRate: lr }) };
  }
  const curvature = hparams?.curvature ?? (task.kind === 'tf' ? 'gauss-newton' : 'hessian');
  const { maxParameters: _, ...h } = hparams ?? {};
  return { opt: new HessianFreeOptimizer({ ...h, learningRate: lr, curvature }), curvature };
}

interface Run {
  lr: number;
  loss: number | null;
  metric: number | null;
  curve: number[];
  failure?: string;
  iterations: number;
  gradientEquivalents: number;
  curvature?: string;
}

async function runOne(name: SecondOrderName, task: Task, seed: number, lr: number, budget: number, hparams: SecondOrderEvalOptions['hparams']): Promise<Run> {
  let problem: Problem | undefined;
  let opt: ClosureOptimizer | undefined;
  const curve: number[] = [];
  let curvature: string | undefined;
  try {
    problem = task.kind === 'array' ? arrayProblem(task, seed) : tfProblem(task, seed);
    const m = make(name, task, lr, hparams);
    opt = m.opt;
    curvature = m.curvature;
    while (opt.gradientEquivalents < budget && opt.iterations < budget) {
      const c = opt.minimize(problem.loss, true, problem.vars)!;
      const v = (await c.data())[0]!;
      c.dispose();
      curve.push(v);
      if (!Number.isFinite(v)) throw new Error(`non-finite training loss ${v} at iteration ${opt.iterations}`);
    }
    const end = await problem.validate();
    if (!Number.isFinite(end.loss)) throw new Error(`non-finite validation loss ${end.loss}`);
    return { lr, loss: end.loss, metric: end.metric, curve, iterations: opt.iterations, gradientEquivalents: opt.gradientEquivalents, ...(curvature ? { curvature } : {}) };
  } catch (e) {
    const failure = String((e as Error)?.message ?? e).split('\n')[0]!;
    return { lr, loss: null, metric: null, curve, failure, iterations: opt?.iterations ?? 0, gradientEquivalents: opt?.gradientEquivalents ?? 0, ...(curvature ? { curvature } : {}) };
  } finally {
    opt?.dispose();
    problem?.dispose();
  }
}

export async function evaluateSecondOrder(name: SecondOrderName, opts: SecondOrderEvalOptions = {}): Promise<Evaluation> {
  const t0 = performance.now();
  const be = await initBackend(opts.backend ?? 'auto');
  if (be.tf.getBackend() !== be.tfBackend) await be.tf.setBackend(be.tfBackend);
  const reg = opts.registry ?? new TaskRegistry();
  const tasks = opts.tasks?.length
    ? opts.tasks.map((t) => {
        const found = reg.get(t);
        if (!found) throw new Error(`unknown task '${t}' (tasks: ${reg.names().join(', ')})`);
        return found;
      })
    : reg.suite(opts.suite ?? 'quick');
  const seed = opts.seed ?? 0;
  const lrs = opts.lrs ?? [1];
  const results: SecondOrderTaskEvaluation[] = [];
  for (const task of tasks) {
    const t1 = performance.now();
    const steps = opts.steps ?? task.steps;
    const batching = opts.batching ?? task.batching;
    const base = { task: task.name, suite: task.suite, steps, budget: steps, lr: null, loss: null, metric: null, score: null, curve: [], runs: [], reference: null, iterations: 0, gradientEquivalents: 0 };
    if (batching !== 'full') {
      const failure = `${name} runs full-batch: task '${task.name}' trains on ${batching} batches; pass --batching full (AdamW's reference then runs full-batch too)`;
      results.push({ ...base, failure, ms: 0, timings: { setupMs: 0, trainMs: 0, referenceMs: 0, stepsPerSecond: 0 } });
      continue;
    }
    const runs: Run[] = [];
    for (const lr of lrs) runs.push(await runOne(name, task, seed, lr, steps, opts.hparams));
    const trainMs = performance.now() - t1;
    const best = runs.filter((r) => r.loss !== null).sort((a, b) => a.loss! - b.loss!)[0];
    let reference: TaskEvaluation['reference'] = null;
    let referenceMs = 0;
    if (opts.reference !== false) {
      const r0 = performance.now();
      const ref = await evaluate(seedProgram('adamw'), { tasks: [task], steps, seed, batching: 'full', reference: false, registry: reg, backend: opts.backend });
      const rt = ref.tasks[0]!;
      reference = { lr: rt.lr, loss: rt.loss, metric: rt.metric, ...(rt.failure ? { failure: rt.failure } : {}) };
      referenceMs = performance.now() - r0;
    }
    const used = best ?? runs[0]!;
    const out: SecondOrderTaskEvaluation = {
      ...base,
      lr: best?.lr ?? null,
      loss: best?.loss ?? null,
      metric: best?.metric ?? null,
      score: reference === null ? null : normalisedScore(best?.loss ?? null, reference.loss, task.lossFloor),
      curve: used.curve,
      runs: runs.map((r) => ({ lr: r.lr, loss: r.loss, metric: r.metric, curve: r.curve, ...(r.failure ? { failure: r.failure } : {}) })),
      reference,
      ms: performance.now() - t1,
      timings: { setupMs: 0, trainMs, referenceMs, stepsPerSecond: used.iterations / (trainMs / 1000 / runs.length) },
      iterations: used.iterations,
      gradientEquivalents: used.gradientEquivalents,
      note: `${used.iterations} iterations, ${used.gradientEquivalents.toFixed(0)} gradient evaluations (budget ${steps}), full batch${used.curvature ? `, ${used.curvature} curvature` : ''}`,
      ...(used.curvature ? { curvature: used.curvature } : {}),
    };
    if (!best) out.failure = runs.length > 1 ? `every rate failed (at ${runs[0]!.lr}: ${runs[0]!.failure})` : runs[0]!.failure!;
    results.push(out);
  }
  const scored = results.filter((r) => r.score !== null);
  const finished = results.filter((r) => r.loss !== null);
  return {
    suite: opts.tasks?.length ? null : (opts.suite ?? 'quick'),
    fitness: finished.length === 0 || scored.length === 0 ? null : scored.reduce((s, r) => s + r.score!, 0) / scored.length,
    tasks: results,
    ms: performance.now() - t0,
    ...(finished.length === 0 && results.length > 0 ? { failure: `failed every task: ${results[0]!.failure ?? 'unknown'}` } : {}),
    backend: be.name,
    backendDetail: be.detail,
  };
}
