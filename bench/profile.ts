/**
 * Where one standard-suite evaluation spends its time (issue 14): one
 * candidate (lion, 8 rates, no reference) under tf.profile on wasm. Prints
 * the top kernels by time (with their share of the evaluation's wall time),
 * and the share spent outside kernels (JavaScript: the trainer, tfjs's
 * engine and gradient bookkeeping, data movement between JS and the wasm heap).
 *
 * Times are CPU time of the process (wasm kernels run synchronously on this
 * thread), taken around each kernel call; the per-call timing adds about a
 * microsecond. Each task is evaluated once untimed first (data loaded,
 * caches warm).
 *
 * Run: npm run build && node dist/bench/profile.js [--suite standard] [--tasks a,b] [--sweep full|halving] [--top 15] [--json] [--steps N]
 */
import * as tf from '@tensorflow/tfjs';
import { seedProgram } from '../seeds/index.js';
import { initBackend } from '../src/backend.js';
import { evaluate } from '../src/evaluate.js';
import { suiteTasks } from '../src/tasks/registry.js';
import { arg, cpuMs } from './process.js';

interface Row {
  kernel: string;
  calls: number;
  ms: number;
  share: number;
}


/**
 * Wraps every wasm kernel so that each call adds its CPU time to `by`
 * (tf.profile keeps a record per call and overflows the stack on a whole
 * suite). Kernels registered for wasm call each other directly, never
 * through the registry, so nothing is counted twice.
 */
/** A kernel's config without its setup function, which already ran when the backend registered it. */
function withoutSetup(k: tf.KernelConfig): tf.KernelConfig {
  const { setupFunc: _ran, ...rest } = k;
  return rest;
}

function timeKernels(by: Map<string, { calls: number; ms: number }>): () => void {
  const originals = tf.getKernelsForBackend('wasm');
  for (const k of originals) {
    const f = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...withoutSetup(k),
      kernelFunc: ((args: Parameters<typeof f>[0]) => {
        const c = cpuMs();
        const out = f(args);
        const e = by.get(k.kernelName) ?? { calls: 0, ms: 0 };
        e.calls++;
        e.ms += cpuMs() - c;
        by.set(k.kernelName, e);
        return out;
      }) as typeof f,
    });
  }
  return () => {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(withoutSetup(k));
    }
  };
}

export async function profileEvaluation(suite: 'quick' | 'standard', steps?: number, sweep: 'full' | 'halving' = 'full', only?: readonly string[]) {
  await initBackend('wasm');
  const by = new Map<string, { calls: number; ms: number }>();
  let totalMs = 0;
  const perTask: { task: string; ms: number; outsideShare: number }[] = [];
  for (const task of suiteTasks(suite).filter((t) => !only || only.includes(t.name))) {
    const opts = { tasks: [task.name], backend: 'wasm' as const, reference: false, sweep, ...(steps ? { steps } : {}) };
    await evaluate(seedProgram('lion'), opts); // data loaded, caches warm
    const before = new Map([...by].map(([k, v]) => [k, v.ms]));
    const restore = timeKernels(by);
    const c = cpuMs();
    await evaluate(seedProgram('lion'), opts);
    const ms = cpuMs() - c;
    restore();
    const inside = [...by].reduce((s, [k, v]) => s + v.ms - (before.get(k) ?? 0), 0);
    totalMs += ms;
    perTask.push({ task: task.name, ms, outsideShare: 1 - inside / ms });
  }
  const kernelMs = [...by.values()].reduce((s, v) => s + v.ms, 0);
  const rows: Row[] = [...by.entries()].map(([kernel, e]) => ({ kernel, calls: e.calls, ms: e.ms, share: e.ms / totalMs })).sort((a, b) => b.ms - a.ms);
  return { suite, sweep, cpuMs: totalMs, kernelMs, outsideShare: 1 - kernelMs / totalMs, kernelCalls: rows.reduce((s, r) => s + r.calls, 0), perTask, rows };
}

async function main() {
  const suite = (arg('--suite') ?? 'standard') as 'quick' | 'standard';
  const top = Number(arg('--top') ?? 15);
  const steps = arg('--steps') ? Number(arg('--steps')) : undefined;
  const r = await profileEvaluation(suite, steps, arg('--sweep') === 'halving' ? 'halving' : 'full', arg('--tasks')?.split(','));
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const lines = [
    `one ${suite}-suite candidate (lion, 8 rates, ${r.sweep} sweep, no reference) on wasm: ${(r.cpuMs / 1000).toFixed(2)} s CPU with kernels timed, ${r.kernelCalls} kernel calls`,
    `inside kernels ${(r.kernelMs / 1000).toFixed(2)} s (${(100 * (1 - r.outsideShare)).toFixed(1)}%), outside kernels (JavaScript, data movement) ${(100 * r.outsideShare).toFixed(1)}%`,
    `per task: ${r.perTask.map((t) => `${t.task} ${(t.ms / 1000).toFixed(2)} s (${(100 * t.outsideShare).toFixed(0)}% outside kernels)`).join(', ')}`,
    'top kernels by time:',
    ...r.rows.slice(0, top).map((x) => `  ${x.kernel.padEnd(22)} ${String(x.calls).padStart(7)} calls ${x.ms.toFixed(0).padStart(7)} ms ${(100 * x.share).toFixed(1).padStart(5)}%`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
    process.exitCode = 1;
  });
}
