/**
 * Figures for the second-order optimizers (issue 16), measured side by side
 * in one run on the wasm backend:
 *
 *  1. a small deep autoencoder of 8x8 MNIST (Martens' classic setting,
 *     scaled down: 64-32-16-4-16-32-64, tanh, linear code, sigmoid outputs
 *     with cross-entropy, full batch): loss against gradient evaluations for
 *     hessianFree (Gauss-Newton on the whole batch, and on a tenth of it as
 *     Martens does), AdamW (learning rate swept) and the nonlinear-CG seed
 *     (swept); the gradient evaluations each needs to reach AdamW's best
 *     loss; the curves as an SVG (docs/hessian-free-autoencoder.svg);
 *  2. the measured cost of a loss, a gradient, a Gauss-Newton-vector and a
 *     Hessian-vector product on that model, against the nominal COST that the
 *     evaluation counts with;
 *  3. CPU time per hessianFree iteration against one AdamW step;
 *  4. iterations to f - f* <= 1e-6 on Rosenbrock from (-1.2, 1) and on the
 *     quick suite's quadratic, against SciPy's Newton-CG and trust-ncg (the
 *     fixture test/fixtures/second-order/scipy.json).
 *
 * Run: npm run build && node dist/bench/second-order.js [--quick] [--json] [--svg FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import { rng } from '../src/data/rng.js';
import { mnistImages } from '../src/data/mnist.js';
import { optimizers } from '../src/all-optimizers.js';
import type { ClosureOptimizer } from '../src/second-order/closure-optimizer.js';
import { COST, gaussNewtonVector, hessianVector, lossAndGradient, lossOnly } from '../src/second-order/curvature.js';
import { type SplitLoss, splitLoss, withCurvatureBatch } from '../src/second-order/split-loss.js';
import { disposeList } from '../src/second-order/tensor-space.js';
import { builtinTask } from '../src/tasks/registry.js';
import type { ArrayProblem } from '../src/tasks/types.js';
import { initValues } from '../src/train/init.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const svgAt = argv.indexOf('--svg');
const svgFile = svgAt >= 0 ? argv[svgAt + 1]! : fileURLToPath(new URL('../../docs/hessian-free-autoencoder.svg', import.meta.url));

const LAYERS = [64, 32, 16, 4, 16, 32, 64];
const N = quick ? 200 : 500;
const BUDGET = quick ? 300 : 1500;
const cpu = () => process.cpuUsage().user / 1000;

interface Autoencoder {
  vars: tf.Variable[];
  split: SplitLoss;
  dispose(): void;
}

/**
 * The autoencoder with the same seeded Glorot start every call; with
 * `curvatureRows`, Gauss-Newton products use only the first that many images
 * (Martens' curvature mini-batch).
 */
function autoencoder(x: tf.Tensor2D, curvatureRows?: number): Autoencoder {
  const r = rng('autoencoder', 0, 'init');
  const vars: tf.Variable[] = [];
  for (let l = 0; l + 1 < LAYERS.length; l++) {
    vars.push(tf.variable(tf.tensor2d(initValues([LAYERS[l]!, LAYERS[l + 1]!], { kind: 'glorot-uniform' }, r), [LAYERS[l]!, LAYERS[l + 1]!])));
    vars.push(tf.variable(tf.zeros([LAYERS[l + 1]!])));
  }
  const forward = (input: tf.Tensor2D) => () => {
    let h: tf.Tensor = input;
    for (let l = 0; l + 1 < LAYERS.length; l++) {
      h = tf.add(tf.matMul(h as tf.Tensor2D, vars[2 * l] as tf.Variable<tf.Rank.R2>), vars[2 * l + 1]!);
      const code = l === 2;
      const last = l + 2 === LAYERS.length;
      if (!code && !last) h = tf.tanh(h);
    }
    return h; // logits of the sigmoid outputs
  };
  const full = splitLoss(forward(x), 'sigmoid-cross-entropy', x);
  if (curvatureRows === undefined) return { vars, split: full, dispose: () => vars.forEach((v) => v.dispose()) };
  const sub = x.slice([0, 0], [curvatureRows, x.shape[1]]);
  const split = withCurvatureBatch(full, splitLoss(forward(sub), 'sigmoid-cross-entropy', sub), curvatureRows / x.shape[0]);
  return { vars, split, dispose: () => (vars.forEach((v) => v.dispose()), sub.dispose()) };
}

interface Curve {
  label: string;
  /** [gradient evaluations, loss] after each step. */
  points: [number, number][];
  cpuMs: number;
  steps: number;
}

function runFirstOrder(label: string, make: () => tf.Optimizer, x: tf.Tensor2D): Curve {
  const ae = autoencoder(x);
  const opt = make();
  const points: [number, number][] = [];
  const t0 = cpu();
  let ge = 0;
  for (let s = 0; s < BUDGET; s++) {
    const c = opt.minimize(ae.split, true, ae.vars)!;
    ge += 1;
    points.push([ge, c.dataSync()[0]!]);
    c.dispose();
  }
  const cpuMs = cpu() - t0;
  points.push([ge, lossOnly(ae.split)]);
  opt.dispose();
  ae.dispose();
  return { label, points, cpuMs, steps: BUDGET };
}

function runHessianFree(label: string, make: () => ClosureOptimizer, x: tf.Tensor2D, budget: number, curvatureRows?: number): Curve {
  const ae = autoencoder(x, curvatureRows);
  const opt = make();
  const points: [number, number][] = [[0, lossOnly(ae.split)]];
  const t0 = cpu();
  while (opt.gradientEquivalents < budget) {
    opt.minimize(ae.split, false, ae.vars);
    points.push([opt.gradientEquivalents, lossOnly(ae.split)]);
  }
  const cpuMs = cpu() - t0;
  const steps = opt.iterations;
  opt.dispose();
  ae.dispose();
  return { label, points, cpuMs, steps };
}

const best = (c: Curve) => Math.min(...c.points.map((p) => p[1]));
const reach = (c: Curve, target: number) => c.points.find((p) => p[1] <= target)?.[0] ?? null;

/** Median CPU ms of `reps` calls of f. */
function timeIt(f: () => void, reps: number): number {
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = cpu();
    f();
    ts.push(cpu() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

async function main(): Promise<void> {
  const be = await initBackend('wasm');
  const images = mnistImages(8);
  const x = tf.tensor2d(images.subarray(0, N * 64), [N, 64]);
  const out: Record<string, unknown> = { backend: be.detail, model: `${LAYERS.join('-')} autoencoder, ${N} images of 8x8 MNIST, full batch`, budget: BUDGET };

  // 1. Curves.
  const adamLrs = [1e-3, 3e-3, 1e-2, 3e-2, 0.1];
  const cgLrs = [0.03, 0.1, 0.3, 1];
  const adam = adamLrs.map((lr) => runFirstOrder(`adamw lr ${lr}`, () => optimizers.adamw({ learningRate: lr }), x));
  const ncg = cgLrs.map((lr) => runFirstOrder(`nonlinear CG lr ${lr}`, () => optimizers.conjugateGradient({ learningRate: lr }), x));
  const adamBest = adam.reduce((a, b) => (best(a) <= best(b) ? a : b));
  const ncgBest = ncg.reduce((a, b) => (best(a) <= best(b) ? a : b));
  const target = best(adamBest);
  const hfBudget = 2 * BUDGET;
  const hf = [
    runHessianFree('hessianFree (defaults)', () => optimizers.hessianFree(), x, hfBudget),
    runHessianFree('hessianFree (curvature on 10% of the batch)', () => optimizers.hessianFree(), x, hfBudget, N / 10),
  ];
  out['autoencoder'] = {
    adamwBestLoss: target,
    adamwBestRate: adamBest.label,
    adamwLosses: Object.fromEntries(adam.map((c) => [c.label, best(c)])),
    nonlinearCgLosses: Object.fromEntries(ncg.map((c) => [c.label, best(c)])),
    gradientEvaluationsToAdamwBest: {
      adamw: reach(adamBest, target),
      nonlinearCg: reach(ncgBest, target),
      ...Object.fromEntries(hf.map((c) => [c.label, reach(c, target)])),
    },
    hessianFreeBestLoss: Object.fromEntries(hf.map((c) => [c.label, best(c)])),
    hessianFreeIterations: Object.fromEntries(hf.map((c) => [c.label, c.steps])),
  };

  // 2. Measured costs on the autoencoder, at its start.
  {
    const ae = autoencoder(x);
    const z = ae.split.outputs();
    const v = ae.vars.map((w) => tf.randomNormal(w.shape, 0, 1, 'float32', 1));
    const reps = quick ? 5 : 15;
    const g = timeIt(() => disposeList(lossAndGradient(ae.split, ae.vars).grads), reps);
    const l = timeIt(() => lossOnly(ae.split), reps);
    const gn = timeIt(() => disposeList(gaussNewtonVector(ae.split, ae.vars, z, v)), reps);
    const hv = timeIt(() => disposeList(hessianVector(ae.split, ae.vars, v)), reps);
    out['measuredCost'] = {
      gradientMs: g,
      inGradients: { loss: l / g, gaussNewtonVector: gn / g, hessianVector: hv / g },
      nominal: { loss: COST.loss, gaussNewtonVector: COST.gaussNewtonVector, hessianVector: COST.hessianVector },
    };
    disposeList(v);
    z.dispose();
    ae.dispose();
  }

  // 3. Time per HF iteration against one AdamW step (CPU time, same run).
  const adamStepMs = adamBest.cpuMs / adamBest.steps;
  out['timePerIteration'] = Object.fromEntries(
    hf.map((c) => [c.label, { hfIterationMs: c.cpuMs / c.steps, adamwStepMs: adamStepMs, ratio: c.cpuMs / c.steps / adamStepMs }]),
  );

  // 4. Iterations to 1e-6 against SciPy.
  const ref = JSON.parse(readFileSync(fileURLToPath(new URL('../../test/fixtures/second-order/scipy.json', import.meta.url)), 'utf8')) as {
    problems: Record<string, { fStar: number; x0: number[]; runs: Record<string, { itersToTarget: number; nhev: number; njev: number }> }>;
  };
  const iterations: Record<string, Record<string, number | null>> = {};
  for (const problem of ['rosenbrock', 'quadratic'] as const) {
    const p = ref.problems[problem]!;
    const loss = (builtinTask(problem) as { setup(s: number): ArrayProblem }).setup(0).tfLoss!;
    const row: Record<string, number | null> = {};
    const ours: [string, () => ClosureOptimizer][] = [
      ['newton', () => optimizers.newton()],
      ['hessianFree (hessian)', () => optimizers.hessianFree({ curvature: 'hessian' })],
      ['hessianFree (hessian, damping 1e-4)', () => optimizers.hessianFree({ curvature: 'hessian', damping: 1e-4 })],
    ];
    for (const [name, make] of ours) {
      const w = tf.variable(tf.tensor1d(p.x0));
      const opt = make();
      let hit: number | null = null;
      for (let i = 1; i <= 200 && hit === null; i++) {
        opt.minimize(() => loss(tf, [w]), false, [w]);
        if (lossOnly(() => loss(tf, [w])) - p.fStar <= 1e-6) hit = i;
      }
      row[name] = hit;
      row[`${name}: gradient evaluations`] = Math.round(opt.gradientEquivalents);
      opt.dispose();
      w.dispose();
    }
    for (const [m, r] of Object.entries(p.runs)) {
      row[`scipy ${m}`] = r.itersToTarget;
      row[`scipy ${m}: gradients + Hessian products`] = r.njev + r.nhev;
    }
    iterations[problem] = row;
  }
  out['iterationsTo1e-6'] = iterations;

  // The plot.
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const curves = [adamBest, ncgBest, ...hf];
  const rows = curves.flatMap((c) => c.points.filter((p) => p[1] > 0).map(([ge, loss]) => ({ optimizer: c.label, ge, loss })));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `8x8 MNIST autoencoder ${LAYERS.join('-')}, ${N} images, full batch (wasm)`,
    width: 480,
    height: 300,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x: { field: 'ge', type: 'quantitative', title: 'gradient evaluations (curvature products included)' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'training loss (cross-entropy)' }, color: { field: 'optimizer', type: 'nominal' } } },
      { data: { values: [{ y: target }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec as never).spec), { renderer: 'none' });
  writeFileSync(svgFile, await view.toSVG());
  view.finalize();
  out['svg'] = svgFile;
  x.dispose();

  if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    const a = out['autoencoder'] as Record<string, unknown>;
    process.stdout.write(`${out['model']}; budget ${BUDGET} gradient evaluations for first-order runs, ${hfBudget} for hessianFree\n`);
    process.stdout.write(`AdamW best loss ${target.toFixed(5)} (${adamBest.label}); gradient evaluations to reach it: ${JSON.stringify(a['gradientEvaluationsToAdamwBest'])}\n`);
    process.stdout.write(`best losses: adamw ${JSON.stringify(a['adamwLosses'])}, nonlinear CG ${JSON.stringify(a['nonlinearCgLosses'])}, hessianFree ${JSON.stringify(a['hessianFreeBestLoss'])}\n`);
    process.stdout.write(`hessianFree iterations: ${JSON.stringify(a['hessianFreeIterations'])}\n`);
    process.stdout.write(`measured cost in gradients: ${JSON.stringify(out['measuredCost'])}\n`);
    process.stdout.write(`CPU time per iteration: ${JSON.stringify(out['timePerIteration'])}\n`);
    process.stdout.write(`iterations to f - f* <= 1e-6: ${JSON.stringify(out['iterationsTo1e-6'], null, 1)}\n`);
    process.stdout.write(`wrote ${svgFile}\n`);
  }
}

await main();
