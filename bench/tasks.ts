/**
 * Figures for proxy tasks, training and evaluation (issue 4), each measured
 * side by side in one run (the machine is shared: ratios, not absolutes):
 *
 *  1. learning-rate sweep: 8 rates as stacked replicas against 8 separate
 *     runs (quick-suite MLP and standard MLP), alternated, median of repeats;
 *  2. the standard MLP (784-128-10, batch 128, Adam) on wasm against PyTorch's
 *     CPU build on the same model, batch and optimizer (bench/torch_mlp.py
 *     with /usr/bin/python3, skipped when torch is missing);
 *  3. one candidate's 8-rate sweep on the whole quick suite (and the standard
 *     suite): CPU seconds and wall seconds, reference cached, data loaded;
 *  4. training steps per second for each task on wasm and cpu, and the share
 *     of the machine's peak (a large matmul, same run) the standard MLP reaches.
 *
 * Run: npm run build && node dist/bench/tasks.js [--quick] [--json]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { seedProgram } from '../seeds/index.js';
import { initBackend } from '../src/backend.js';
import { DEFAULT_LRS, evaluate } from '../src/evaluate.js';
import { BUILTIN_TASKS, builtinTask } from '../src/tasks/registry.js';
import type { Task, TfTask } from '../src/tasks/types.js';
import { trainArrayTask } from '../src/train/array-trainer.js';
import { DEFAULT_MONITOR } from '../src/train/monitor.js';
import type { TrainSettings } from '../src/train/settings.js';
import { trainTfTask } from '../src/train/tf-trainer.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU milliseconds of f. */
const cpuMs = (f: () => void): number => {
  const c = cpuSeconds();
  f();
  return (cpuSeconds() - c) * 1000;
};
/** CPU milliseconds of an asynchronous f. */
const cpuMsAsync = async (f: () => Promise<unknown>): Promise<number> => {
  const c = cpuSeconds();
  await f();
  return (cpuSeconds() - c) * 1000;
};

function settings(task: Task, steps: number, skipValidation = false): TrainSettings {
  return { seed: 0, steps, batchSize: task.batchSize, batching: task.batching, schedule: task.schedule, monitor: DEFAULT_MONITOR, ...(skipValidation ? { skipValidation } : {}) };
}

async function use(backend: 'wasm' | 'cpu') {
  await initBackend(backend);
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
}

/** 1. Batched sweep against separate runs: median ms of each, alternated. */
export async function sweepFigure(taskName: string, steps: number, repeats: number) {
  await use('wasm');
  const task = builtinTask(taskName) as TfTask;
  const ds = task.data(0);
  const p = seedProgram('adam');
  const s = settings(task, steps);
  await trainTfTask(tf, task, ds, p, DEFAULT_LRS.slice(0, 2), settings(task, 3), 'batched', true);
  await trainTfTask(tf, task, ds, p, DEFAULT_LRS.slice(0, 1), settings(task, 3), 'separate');
  const batched: number[] = [];
  const separate: number[] = [];
  for (let r = 0; r < repeats; r++) {
    batched.push(await cpuMsAsync(() => trainTfTask(tf, task, ds, p, DEFAULT_LRS, s, 'batched', true)));
    separate.push(await cpuMsAsync(() => trainTfTask(tf, task, ds, p, DEFAULT_LRS, s, 'separate')));
  }
  return { task: taskName, steps, rates: DEFAULT_LRS.length, batchedMs: median(batched), separateMs: median(separate), speedup: median(separate) / median(batched) };
}

/** Steps per second of one training run (one rate, no validation). */
export async function stepsPerSecond(task: Task, steps: number): Promise<number> {
  const p = seedProgram('adam');
  if (task.kind === 'array') {
    trainArrayTask(task, p, [1e-3], settings(task, 3));
    return steps / (cpuMs(() => trainArrayTask(task, p, [1e-3], settings(task, steps))) / 1000);
  }
  const ds = task.data(0);
  await trainTfTask(tf, task, ds, p, [1e-3], settings(task, 3, true), 'separate');
  return steps / ((await cpuMsAsync(() => trainTfTask(tf, task, ds, p, [1e-3], settings(task, steps, true), 'separate'))) / 1000);
}

/** 2. The standard MLP on wasm against PyTorch CPU, alternated. */
export async function torchFigure(steps: number, repeats: number) {
  await use('wasm');
  const task = builtinTask('mnist-mlp')!;
  const script = fileURLToPath(new URL('../../bench/torch_mlp.py', import.meta.url));
  const tfjs: number[] = [];
  const torch1: number[] = [];
  let torchError: string | undefined;
  for (let r = 0; r < repeats; r++) {
    tfjs.push(await stepsPerSecond(task, steps));
    const out = spawnSync('/usr/bin/python3', [script, String(steps), '1'], { encoding: 'utf8' });
    if (out.status !== 0) {
      torchError = (out.stderr || out.error?.message || 'failed').trim().split('\n').pop();
      break;
    }
    torch1.push((JSON.parse(out.stdout.trim()) as { steps_per_second: number }).steps_per_second);
  }
  return {
    model: 'MLP 784-128-10, batch 128, Adam',
    tfjsWasmStepsPerSecond: median(tfjs),
    torchCpuStepsPerSecond: torch1.length ? median(torch1) : null,
    ratio: torch1.length ? median(tfjs) / median(torch1) : null,
    ...(torchError ? { torchError } : {}),
  };
}

/** 3. One candidate, 8 rates, a whole suite: CPU and wall seconds once data and reference are warm. */
export async function candidateFigure(suite: 'quick' | 'standard', steps?: number) {
  const opts = { suite, backend: 'wasm' as const, ...(steps ? { steps } : {}) };
  await evaluate(seedProgram('adamw'), opts); // loads data, computes the reference
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const e = await evaluate(seedProgram('lion'), opts);
  return {
    suite,
    steps: steps ?? 'task defaults',
    rates: DEFAULT_LRS.length,
    cpuSeconds: cpuSeconds() - c0,
    wallSeconds: (performance.now() - t0) / 1000,
    perTaskMs: Object.fromEntries(e.tasks.map((t) => [t.task, Math.round(t.ms)])),
  };
}

/**
 * The machine's peak for one core on wasm: the best FLOP rate of large
 * matmuls (the MLP's own first-layer shape among them), measured before any
 * other backend runs in the process.
 */
export async function peakFlops(): Promise<number> {
  await use('wasm');
  let best = 0;
  for (const [m, k, n] of [[128, 784, 128], [512, 784, 512], [1024, 1024, 1024]] as const) {
    const a = tf.randomNormal([m, k]) as tf.Tensor2D;
    const b = tf.randomNormal([k, n]) as tf.Tensor2D;
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
    const reps = m === 128 ? 50 : 5;
    const ms = cpuMs(() => {
      for (let i = 0; i < reps; i++) tf.tidy(() => void tf.matMul(a, b).dataSync());
    });
    best = Math.max(best, (2 * m * k * n * reps) / (ms / 1000));
    tf.dispose([a, b]);
  }
  return best;
}

/** 4. Steps/s per task on wasm and cpu, and the standard MLP's share of a large matmul's FLOP rate. */
export async function throughputFigure(steps: number) {
  const peak = await peakFlops();
  const rows: { task: string; wasm: number; cpu: number }[] = [];
  const tasks = BUILTIN_TASKS.filter((t) => t.suite !== 'metaval');
  const at: Record<string, Record<string, number>> = {};
  for (const backend of ['wasm', 'cpu'] as const) {
    await use(backend);
    for (const t of tasks) (at[t.name] ??= {})[backend] = await stepsPerSecond(t, backend === 'cpu' && t.kind === 'tf' ? Math.max(5, Math.floor(steps / 5)) : steps);
  }
  for (const t of tasks) rows.push({ task: t.name, wasm: at[t.name]!.wasm!, cpu: at[t.name]!.cpu! });
  // Forward 2 B P, backward 4 B P floating-point operations per step (P weights, B examples).
  const mlpFlops = 6 * 128 * (784 * 128 + 128 * 10);
  const mlp = rows.find((r) => r.task === 'mnist-mlp')!.wasm;
  return { rows, peakGflops: peak / 1e9, mnistMlpGflops: (mlp * mlpFlops) / 1e9, shareOfPeak: (mlp * mlpFlops) / peak };
}

async function main() {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  const want = (f: string) => !only || only.includes(f);
  const report = {
    // Throughput first: its peak matmul is measured before anything else has run.
    throughput: want('throughput') ? await throughputFigure(quick ? 30 : 100) : null,
    sweepQuickMlp: want('sweep') ? await sweepFigure('mnist8-mlp', quick ? 50 : 150, quick ? 2 : 3) : null,
    sweepStandardMlp: want('sweep') ? await sweepFigure('mnist-mlp', quick ? 20 : 100, quick ? 1 : 3) : null,
    sweepOthers: want('sweep') && !quick ? [await sweepFigure('mnist-cnn', 20, 1), await sweepFigure('teacher-student', 100, 1), await sweepFigure('tiny-lm', 100, 1)] : [],
    torch: want('torch') ? await torchFigure(quick ? 50 : 200, quick ? 1 : 3) : null,
    quickSuite: want('suites') ? await candidateFigure('quick') : null,
    standardSuite: want('suites') && !quick ? await candidateFigure('standard') : null,
  };
  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const f = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const lines = [
    'times are CPU time of the process (see the header of bench/tasks.ts)',
    `sweep of ${DEFAULT_LRS.length} rates, stacked vs separate (wasm):`,
    ...[report.sweepQuickMlp, report.sweepStandardMlp, ...report.sweepOthers].filter((x) => x !== null).map((s) => `  ${s.task.padEnd(15)} ${s.steps} steps: stacked ${f(s.batchedMs, 0)} ms, separate ${f(s.separateMs, 0)} ms, ${f(s.speedup, 2)}x`),
    ...(report.torch
      ? [
          `standard MLP (784-128-10, batch 128, Adam), steps per CPU second: tfjs wasm ${f(report.torch.tfjsWasmStepsPerSecond)}, PyTorch CPU (1 thread) ${f(report.torch.torchCpuStepsPerSecond)}, ${f(report.torch.ratio, 2)}x${report.torch.torchError ? ` (torch: ${report.torch.torchError})` : ''}`,
        ]
      : []),
    ...[report.quickSuite, report.standardSuite].filter((s) => s !== null).map((s) => `one candidate, ${s.rates} rates, ${s.suite} suite: ${f(s.cpuSeconds, 2)} s CPU, ${f(s.wallSeconds, 2)} s wall (${Object.entries(s.perTaskMs).map(([k, v]) => `${k} ${v} ms`).join(', ')})`),
    ...(report.throughput
      ? [
          'training steps per CPU second (one rate, no validation; array tasks use no tfjs, so their two columns differ only by noise):',
          ...report.throughput.rows.map((r) => `  ${r.task.padEnd(16)} wasm ${f(r.wasm).padStart(8)}  cpu ${f(r.cpu).padStart(8)}`),
          `peak (best large matmul on wasm): ${f(report.throughput.peakGflops, 2)} GFLOP/s; the standard MLP reaches ${f(report.throughput.mnistMlpGflops, 2)} GFLOP/s, ${f(100 * report.throughput.shareOfPeak)}% of it`,
        ]
      : []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
    process.exitCode = 1;
  });
}
