/**
 * The GPU figures of the device check (issue 17), one backend per process.
 * scripts/device-check.sh runs these on the GPU machine for webgpu and wasm
 * side by side and prints the ratios.
 *
 *   node gpu.js figures --backend webgpu|wasm
 *     - steps per second of the standard MLP (784-128-10, batch 128, Adam)
 *       and of an ~11M-parameter MLP (784-2560-2560-1024-10) at batch 1024;
 *     - a large matmul's TFLOP/s (webgpu only: float32);
 *     - one candidate (AdamW) on the standard suite with the 8-rate sweep,
 *       after a short warm-up of the same shapes (shader compilation), with
 *       every task's and rate's validation loss for the agreement check.
 *       A task that did not train is an error, never a figure.
 *
 *   node gpu.js search --backend B --seconds S [--procs N --index I]
 *     Standard-suite candidates per hour: children bred from the seeds by the
 *     search's own mutator, checked and deduplicated by fingerprint as the
 *     search does, then trained on the standard suite one after another
 *     until S seconds have passed. N processes split one list of children
 *     (process I takes every N-th), so N processes measure a machine's
 *     throughput with N engines sharing it.
 *
 * Prints one JSON object on stdout.
 */
import * as tf from '@tensorflow/tfjs';
import { parse } from '../dsl/parse.js';
import { seedSource } from '../seeds/index.js';
import { initBackend } from '../src/backend.js';
import { DEFAULT_LRS, evaluate, type Evaluation } from '../src/evaluate.js';
import { optimizers } from '../src/optimizers.js';
import { BUILTIN_TASKS } from '../src/tasks/registry.js';
import type { TfTask } from '../src/tasks/types.js';
import { mlpForward } from '../src/train/layers.js';
import { DEFAULT_MONITOR } from '../src/train/monitor.js';
import { trainTfTask } from '../src/train/tf-trainer.js';
import { setWebgpuBackendLoader } from '../src/webgpu.js';
import { children } from './gpu-children.js';

// A literal specifier: a bundle of this file (the device check) then contains the backend.
setWebgpuBackendLoader(() => import('@tensorflow/tfjs-backend-webgpu'));

type Backend = 'webgpu' | 'wasm';

async function mlpStepsPerSecond(widths: number[], batch: number, seconds: number): Promise<{ rate: number; params: number }> {
  const ps = widths.slice(1).flatMap((out, l) => [
    tf.variable(tf.randomNormal([widths[l]!, out], 0, Math.sqrt(2 / (widths[l]! + out)), 'float32', 1 + l), true, `w${l}`),
    tf.variable(tf.zeros([out]), true, `b${l}`),
  ]);
  const x = tf.randomNormal([batch, widths[0]!], 0, 1, 'float32', 7);
  const y = tf.oneHot(tf.randomUniform([batch], 0, widths.at(-1)!, 'int32', 8), widths.at(-1)!);
  const opt = optimizers.adam({ learningRate: 1e-3 });
  const step = () => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, mlpForward(tf, ps, x, null, 'relu')) as tf.Scalar, false, ps);
  // Warm up (shader compilation, kernel selection), then time whole synchronised steps.
  for (let i = 0; i < 3; i++) step();
  await ps[0]!.data();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    step();
    if (++n % 5 === 0) await ps[0]!.data();
  }
  await ps[0]!.data();
  const rate = n / ((performance.now() - t0) / 1000);
  const params = ps.reduce((a, p) => a + p.size, 0);
  ps.forEach((p) => p.dispose());
  x.dispose();
  y.dispose();
  opt.dispose();
  return { rate, params };
}

async function matmulTflops(n: number): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const once = () => tf.tidy(() => tf.matMul(a, b));
  await once().data();
  const reps = 10;
  const t0 = performance.now();
  let last: tf.Tensor | undefined;
  for (let i = 0; i < reps; i++) {
    last?.dispose();
    last = once();
  }
  await last!.data();
  const s = (performance.now() - t0) / 1000;
  last!.dispose();
  a.dispose();
  b.dispose();
  return (2 * n * n * n * reps) / s / 1e12;
}

/** Throws unless every task trained: a failed task, or a rate that failed with an exception, is an error, not a figure. */
export function assertTrained(e: Evaluation, what: string): void {
  const bad: string[] = [];
  for (const t of e.tasks) {
    if (t.loss === null) bad.push(`${t.task}: ${t.failure ?? 'no loss'}`);
    for (const r of t.runs) if (r.failure?.startsWith('error:')) bad.push(`${t.task} at lr ${r.lr}: ${r.failure}`);
  }
  if (e.failure) bad.unshift(e.failure);
  if (bad.length) throw new Error(`${what} did not train: ${bad.slice(0, 4).join('; ')}`);
}

export interface TaskLosses {
  task: string;
  /** Validation loss per rate (null where the run failed, e.g. diverged). */
  losses: (number | null)[];
  best: number | null;
}

/**
 * Replica-steps per second of each standard task with K stacked replicas
 * (K = 1, 8, 32: one rate, one candidate's sweep, four candidates' sweeps).
 * Where per-kernel overhead dominates, K replicas cost little more than one,
 * and stacking more work per kernel is the way to use a GPU.
 */
async function stackScaling(steps: number): Promise<{ task: string; replicaStepsPerSecond: Record<string, number> }[]> {
  const out = [];
  const program = parse(seedSource('adamw'));
  for (const task of BUILTIN_TASKS.filter((t): t is TfTask => t.suite === 'standard' && t.kind === 'tf')) {
    const ds = task.data(0);
    const rates: Record<string, number> = {};
    for (const K of [1, 8, 32]) {
      const lrs = Array.from({ length: K }, (_, k) => 1e-4 * 10 ** ((3 * k) / Math.max(1, K - 1)));
      const s = { seed: 0, steps, batchSize: task.batchSize, batching: task.batching, schedule: task.schedule, monitor: DEFAULT_MONITOR, skipValidation: true };
      await trainTfTask(tf, task, ds, program, lrs, { ...s, steps: 3 }, 'batched', true);
      const t0 = performance.now();
      const r = await trainTfTask(tf, task, ds, program, lrs, s, 'batched', true);
      rates[`K=${K}`] = (K * steps) / ((performance.now() - t0) / 1000);
      if (K > 1 && !r.batched) throw new Error(`${task.name} did not stack ${K} replicas: ${r.note ?? ''}`);
    }
    out.push({ task: task.name, replicaStepsPerSecond: rates });
  }
  return out;
}

export async function figures(backend: Backend) {
  const be = await initBackend(backend);
  const standard = await mlpStepsPerSecond([784, 128, 10], 128, 5);
  const large = await mlpStepsPerSecond([784, 2560, 2560, 1024, 10], 1024, backend === 'wasm' ? 15 : 5);
  const matmul = backend === 'webgpu' ? { n: 4096, tflops: await matmulTflops(4096) } : null;
  const adamw = seedSource('adamw');
  // The same shapes once for a few steps: shaders compile and datasets load outside the timed evaluation.
  assertTrained(await evaluate(adamw, { suite: 'standard', lrs: DEFAULT_LRS, backend, reference: false, steps: 3 }), 'the warm-up');
  const t0 = performance.now();
  const e = await evaluate(adamw, { suite: 'standard', lrs: DEFAULT_LRS, backend, reference: false });
  const standardSuiteEvalSeconds = (performance.now() - t0) / 1000;
  assertTrained(e, 'the standard-suite evaluation');
  const tasks: TaskLosses[] = e.tasks.map((t) => ({ task: t.task, losses: t.runs.map((r) => r.loss), best: t.loss }));
  const stacking = await stackScaling(backend === 'wasm' ? 20 : 40);
  return {
    backend,
    detail: be.detail,
    standardMlpStepsPerSecond: standard.rate,
    largeMlpStepsPerSecond: large.rate,
    largeMlpParams: large.params,
    matmul,
    standardSuiteEvalSeconds,
    perTask: e.tasks.map((t) => ({ task: t.task, ms: t.ms, batched: t.batched ?? false, stepsPerSecond: t.timings.stepsPerSecond })),
    lrs: [...DEFAULT_LRS],
    tasks,
    stacking,
  };
}

export async function searchThroughput(backend: Backend, seconds: number, procs: number, index: number) {
  const be = await initBackend(backend);
  const list = children(160).filter((_, i) => i % procs === index);
  // Warm-up outside the clock: shaders and datasets, as a long-running worker has them.
  await evaluate(seedSource('adamw'), { suite: 'standard', backend, reference: false, steps: 3 });
  const t0 = performance.now();
  let trained = 0;
  let failed = 0;
  const errors: string[] = [];
  for (const src of list) {
    if (performance.now() - t0 >= seconds * 1000) break;
    const e = await evaluate(src, { suite: 'standard', backend, reference: false });
    // A program that diverges everywhere still cost its training; an exception is the machine's fault.
    const broken = e.tasks.flatMap((t) => t.runs.filter((r) => r.failure?.startsWith('error:')).map((r) => `${t.task}: ${r.failure}`));
    if (broken.length) errors.push(broken[0]!);
    if (e.fitness === null && e.tasks.every((t) => t.loss === null)) failed++;
    trained++;
  }
  const s = (performance.now() - t0) / 1000;
  if (errors.length) throw new Error(`${errors.length} candidates hit errors, e.g. ${errors[0]}`);
  return { backend, detail: be.detail, procs, index, trained, failed, seconds: s, perHour: (trained / s) * 3600 };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const backend = arg('backend');
  if ((mode !== 'figures' && mode !== 'search') || (backend !== 'webgpu' && backend !== 'wasm')) {
    process.stderr.write('usage: gpu.js figures|search --backend webgpu|wasm [--seconds S --procs N --index I]\n');
    process.exitCode = 1;
    return;
  }
  const out =
    mode === 'figures' ? await figures(backend) : await searchThroughput(backend, Number(arg('seconds') ?? 60), Number(arg('procs') ?? 1), Number(arg('index') ?? 0));
  process.stdout.write(JSON.stringify(out) + '\n');
}

// Also run when bundled to CommonJS for the device check (no top-level await there).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(`gpu.js: ${String((e as Error)?.message ?? e)}\n`);
    if (process.env.OPTEVO_DEBUG) process.stderr.write(String((e as Error)?.stack) + '\n');
    process.exitCode = 1;
  });
}
