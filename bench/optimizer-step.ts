/**
 * Optimizer step time: each compiled seed against the tfjs built-in for the
 * same rule (`tf.train.sgd`, `momentum`, `rmsprop`, `adagrad`, `adadelta`,
 * `adam`), on the same MLP's variables and gradients, on the same backend,
 * measured side by side in one run: blocks of steps alternate between the two,
 * each timed in CPU time of this process, and the best block counts (on a
 * shared machine, interference only adds time); the medians are reported too. The bar: at most 1.10x the built-in for every
 * rule, on a ~10k- and a ~1M-parameter MLP, on wasm and cpu.
 *
 * Only the optimizer step is timed (`applyGradients` with fixed gradients):
 * the forward and backward passes are the same for both and would hide the
 * difference.
 *
 *   node dist/bench/optimizer-step.js [--backends wasm,cpu] [--sizes 10k,1M] [--rounds 15] [--json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { SeedName } from '../seeds/index.js';
import { optimizers } from '../src/optimizers.js';

type Builtin = () => tf.Optimizer;

/** The rules tfjs has, with the same hyperparameters on both sides. */
export const RULES: readonly { seed: SeedName; builtin: Builtin }[] = [
  { seed: 'sgd', builtin: () => tf.train.sgd(0.01) },
  { seed: 'momentum', builtin: () => tf.train.momentum(0.01, 0.9) },
  { seed: 'rmsprop', builtin: () => tf.train.rmsprop(0.001, 0.9, 0, 1e-8) },
  { seed: 'adagrad', builtin: () => tf.train.adagrad(0.01, 0) },
  { seed: 'adadelta', builtin: () => tf.train.adadelta(1.0, 0.9, 1e-6) },
  { seed: 'adam', builtin: () => tf.train.adam(0.001, 0.9, 0.999, 1e-8) },
];

/** Layer widths of the two MLPs: 10,666 and 1,002,570 parameters. */
export const MODELS: Record<string, readonly number[]> = {
  '10k': [128, 64, 32, 10],
  '1M': [784, 1024, 192, 10],
};

export interface StepFigure {
  backend: string;
  model: string;
  params: number;
  rule: string;
  /** Milliseconds per step, best block (interference only ever adds time). */
  oursMs: number;
  tfjsMs: number;
  /** oursMs / tfjsMs: the figure held to the bar. */
  ratio: number;
  /** Median blocks, for a sense of the noise. */
  oursMedianMs: number;
  tfjsMedianMs: number;
  medianRatio: number;
}

function shapes(widths: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + 1 < widths.length; i++) out.push([widths[i]!, widths[i + 1]!], [widths[i + 1]!]);
  return out;
}

let serial = 0;
function makeVariables(shapes: number[][]): tf.Variable[] {
  serial++;
  return shapes.map((s, i) => tf.variable(tf.randomUniform(s, -0.1, 0.1, 'float32', 7 + i), true, `bench${serial}_${i}`));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Milliseconds per step over a block of n steps: CPU time of this process
 * (user + system), which other processes on a shared machine do not inflate;
 * wasm and cpu run on this thread, synchronously.
 */
function block(opt: tf.Optimizer, vars: tf.Variable[], grads: tf.Tensor[], n: number): number {
  const list = vars.map((v, i) => ({ name: v.name, tensor: grads[i]! }));
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) opt.applyGradients(list);
  vars[0]!.dataSync(); // wait for the work, on backends that defer it
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

export async function benchRule(
  backend: string,
  model: string,
  rule: (typeof RULES)[number],
  rounds: number,
  warmupMs = 1500,
): Promise<StepFigure> {
  const sh = shapes(MODELS[model]!);
  const params = sh.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  const oursVars = makeVariables(sh);
  const tfjsVars = makeVariables(sh);
  const grads = sh.map((s, i) => tf.randomNormal(s, 0, 0.01, 'float32', 100 + i));
  const ours = optimizers[rule.seed]();
  const theirs = rule.builtin();
  // Warm up (the first step creates state; the JIT needs a thousand steps or
  // so) and size the blocks to ~50 ms.
  let probe = 0;
  for (const t0 = performance.now(); performance.now() - t0 < warmupMs; ) {
    probe = Math.max(block(ours, oursVars, grads, 3), block(theirs, tfjsVars, grads, 3));
  }
  const n = Math.max(2, Math.min(1000, Math.round(50 / Math.max(probe, 1e-3))));
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so drift and GC land on both.
    if (r % 2 === 0) {
      a.push(block(ours, oursVars, grads, n));
      b.push(block(theirs, tfjsVars, grads, n));
    } else {
      b.push(block(theirs, tfjsVars, grads, n));
      a.push(block(ours, oursVars, grads, n));
    }
  }
  ours.dispose();
  theirs.dispose();
  tf.dispose([...oursVars, ...tfjsVars, ...grads]);
  const oursMs = Math.min(...a);
  const tfjsMs = Math.min(...b);
  const oursMedianMs = median(a);
  const tfjsMedianMs = median(b);
  return {
    backend,
    model,
    params,
    rule: rule.seed,
    oursMs,
    tfjsMs,
    ratio: oursMs / tfjsMs,
    oursMedianMs,
    tfjsMedianMs,
    medianRatio: oursMedianMs / tfjsMedianMs,
  };
}

export async function benchOptimizerStep(options: { backends?: string[]; sizes?: string[]; rounds?: number; log?: (line: string) => void } = {}): Promise<StepFigure[]> {
  const backends = options.backends ?? ['wasm', 'cpu'];
  const sizes = options.sizes ?? Object.keys(MODELS);
  const rounds = options.rounds ?? 15;
  const log = options.log ?? (() => {});
  tf.env().set('PROD', true);
  const out: StepFigure[] = [];
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`backend '${backend}' did not start`);
    await tf.ready();
    for (const model of sizes) {
      if (!MODELS[model]) throw new Error(`unknown model size '${model}' (sizes: ${Object.keys(MODELS).join(', ')})`);
      for (const rule of RULES) {
        const f = await benchRule(backend, model, rule, rounds);
        out.push(f);
        log(formatRow(f));
      }
    }
  }
  return out;
}

const ms = (x: number) => (x < 1 ? `${(x * 1000).toFixed(0)} us` : `${x.toFixed(2)} ms`);

export function formatRow(f: StepFigure): string {
  const mark = f.ratio <= 1.1 ? 'ok' : 'OVER';
  return `${f.backend.padEnd(5)} ${f.model.padEnd(4)} ${f.rule.padEnd(9)} ours ${ms(f.oursMs).padStart(9)}  tfjs ${ms(f.tfjsMs).padStart(9)}  ${f.ratio.toFixed(2)}x ${mark.padEnd(4)}  (medians ${f.medianRatio.toFixed(2)}x)`;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const json = argv.includes('--json');
  const opts: Parameters<typeof benchOptimizerStep>[0] = {};
  const backends = arg('backends');
  const sizes = arg('sizes');
  const rounds = arg('rounds');
  if (backends) opts.backends = backends.split(',');
  if (sizes) opts.sizes = sizes.split(',');
  if (rounds) opts.rounds = Number(rounds);
  if (!json) {
    console.log('optimizer step, compiled seed vs tfjs built-in: CPU time per step, best of alternating blocks [bar: <= 1.10x]');
    opts.log = (l) => console.log(l);
  }
  const figures = await benchOptimizerStep(opts);
  mkdirSync('.bench', { recursive: true });
  writeFileSync('.bench/optimizer-step.json', JSON.stringify(figures, null, 2) + '\n');
  if (json) console.log(JSON.stringify(figures, null, 2));
  else {
    const over = figures.filter((f) => f.ratio > 1.1);
    console.log(over.length ? `over the bar: ${over.map((f) => `${f.backend}/${f.model}/${f.rule} ${f.ratio.toFixed(2)}x`).join(', ')}` : 'every rule within 1.10x');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
