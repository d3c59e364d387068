/**
 * The fused optimizer step (src/train/fused-step.ts: one kernel a step,
 * WebAssembly SIMD on wasm) against the compiler's tfjs ops (one kernel an
 * operation), side by side in one process: seeds on each standard task's
 * parameters, 8 stacked replicas, on wasm. Each round times a block of steps
 * of each in CPU time, alternating; the best block counts (on a shared
 * machine, interference only adds time).
 *
 *   node dist/bench/fused-step.js [--seeds lion,adam,...] [--rounds 5] [--json]
 */
import * as tf from '@tensorflow/tfjs';
import { compile } from '../dsl/compile.js';
import { type SeedName, seedProgram } from '../seeds/index.js';
import { initBackend } from '../src/backend.js';
import { suiteTasks } from '../src/tasks/registry.js';
import { fusedStep } from '../src/train/fused-step.js';
import { arg, cpuMs } from './process.js';


const K = 8;

export async function fusedFigure(seeds: readonly SeedName[], rounds: number) {
  await initBackend('wasm');
  await tf.setBackend('wasm');
  const rows: { task: string; elements: number; seed: string; compiledMs: number; fusedMs: number; speedup: number }[] = [];
  for (const task of suiteTasks('standard')) {
    if (task.kind !== 'tf') continue;
    const shapes = task.model.params.map((p) => [K, ...p.shape]);
    for (const seed of seeds) {
      const c = compile(seedProgram(seed), { tf, replicas: K });
      const fused = fusedStep(tf, c.lowered)!;
      const lrs = Array.from({ length: K }, (_, k) => 10 ** (-4 + k / 2));
      const lrT = tf.tensor1d(lrs);
      const ws = shapes.map((s) => tf.randomNormal(s));
      const gs = shapes.map((s) => tf.randomNormal(s));
      const states = ws.map((w) => c.slots.map((sl) => tf.fill(w.shape, sl.init)));
      const compiled = () =>
        tf.tidy(() => {
          const out = c.step(ws, gs, states, lrT, 5);
          return ws.map((w, i) => tf.sub(w, out.updates[i]!));
        });
      const one = () => tf.tidy(() => fused(ws, gs, states, lrs, 5).params);
      const block = (f: () => tf.Tensor[], n: number) => {
        const t = cpuMs();
        for (let i = 0; i < n; i++) tf.dispose(f());
        return (cpuMs() - t) / n;
      };
      block(compiled, 3);
      block(one, 3);
      let bc = Infinity;
      let bf = Infinity;
      for (let r = 0; r < rounds; r++) {
        bc = Math.min(bc, block(compiled, 20));
        bf = Math.min(bf, block(one, 20));
      }
      rows.push({ task: task.name, elements: ws.reduce((n, w) => n + w.size, 0), seed, compiledMs: bc, fusedMs: bf, speedup: bc / bf });
      tf.dispose([lrT, ...ws, ...gs, ...states.flat()]);
      c.dispose();
    }
  }
  return { replicas: K, rows };
}

async function main() {
  const seeds = (arg('--seeds') ?? 'sgd,momentum,adam,lion,rmsprop,adabelief').split(',') as SeedName[];
  const r = await fusedFigure(seeds, Number(arg('--rounds') ?? 5));
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const lines = [
    `optimizer step, ${r.replicas} stacked replicas, wasm, CPU ms a step (best block): the compiler's tfjs ops against the fused kernel`,
    ...r.rows.map((x) => `  ${x.task.padEnd(16)} ${String(x.elements).padStart(8)} elements  ${x.seed.padEnd(10)} ops ${x.compiledMs.toFixed(2).padStart(6)}  fused ${x.fusedMs.toFixed(2).padStart(6)}  ${x.speedup.toFixed(1)}x`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
    process.exitCode = 1;
  });
}
