/**
 * The GPU figures of the device check (issue 7), for one backend per
 * process: `node gpu.js --backend webgpu|wasm [--json]`. scripts/device-check.sh
 * runs it for both on the GPU machine and prints the ratios.
 *
 * - steps per second of the standard MLP (784-128-10, batch 128, Adam) and of
 *   a ~11M-parameter MLP (784-2560-2560-1024-10) at batch 1024;
 * - a large matmul's TFLOP/s (webgpu only: float32);
 * - one candidate's evaluation (AdamW) on the standard suite with the 8-rate sweep.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, isBackendName } from '../src/backend.js';
import { DEFAULT_LRS, evaluate } from '../src/evaluate.js';
import { optimizers } from '../src/optimizers.js';
import { mlpForward } from '../src/train/layers.js';
import { seedSource } from '../seeds/index.js';

interface GpuFigures {
  backend: string;
  detail: string;
  standardMlpStepsPerSecond: number;
  largeMlpStepsPerSecond: number;
  largeMlpParams: number;
  matmul: { n: number; tflops: number } | null;
  standardSuiteEvalSeconds: number;
}

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

export async function gpuFigures(backend: 'webgpu' | 'wasm'): Promise<GpuFigures> {
  const be = await initBackend(backend);
  const standard = await mlpStepsPerSecond([784, 128, 10], 128, 5);
  const large = await mlpStepsPerSecond([784, 2560, 2560, 1024, 10], 1024, backend === 'wasm' ? 20 : 5);
  const matmul = backend === 'webgpu' ? { n: 4096, tflops: await matmulTflops(4096) } : null;
  const t0 = performance.now();
  await evaluate(seedSource('adamw'), { suite: 'standard', lrs: DEFAULT_LRS, backend, reference: false });
  const standardSuiteEvalSeconds = (performance.now() - t0) / 1000;
  return {
    backend,
    detail: be.detail,
    standardMlpStepsPerSecond: standard.rate,
    largeMlpStepsPerSecond: large.rate,
    largeMlpParams: large.params,
    matmul,
    standardSuiteEvalSeconds,
  };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--backend');
  const backend = i >= 0 ? process.argv[i + 1] : 'webgpu';
  if (!backend || !isBackendName(backend) || (backend !== 'webgpu' && backend !== 'wasm')) {
    process.stderr.write('usage: gpu.js --backend webgpu|wasm [--json]\n');
    process.exitCode = 1;
    return;
  }
  const f = await gpuFigures(backend);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(f) + '\n');
  else process.stdout.write(JSON.stringify(f, null, 2) + '\n');
}

// Also run when bundled to CommonJS for the device check (no top-level await there).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
    process.exitCode = 1;
  });
}
