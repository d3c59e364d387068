/**
 * The fused optimizer step (dsl/fuse.ts through src/train/fused-step.ts)
 * against the tfjs compiler's ops (dsl/compile.ts), on the real wasm backend:
 * every seed in seeds/, and programs with every reduction, over several
 * steps, unstacked and as stacked replicas with a rate each. The two agree
 * to float32 tolerance (the fused path keeps float64 inside an element's
 * computation), and the fused path leaks no tensor.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Program } from '../../dsl/ast.js';
import { compile } from '../../dsl/compile.js';
import { FUNCTIONS, type ReductionRow } from '../../dsl/functions.js';
import { fuse } from '../../dsl/fuse.js';
import { lower } from '../../dsl/lower.js';
import { parse } from '../../dsl/parse.js';
import { mulberry32 } from '../../dsl/mulberry32.js';
import { initBackend } from '../../src/backend.js';
import { fusedStep } from '../../src/train/fused-step.js';

const SEED_DIR = fileURLToPath(new URL('../../seeds/', import.meta.url));

/** Every .opt file under seeds/, by path. */
function seedFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? seedFiles(p) : p.endsWith('.opt') ? [p] : [];
    })
    .sort();
}

/** Programs with each reduction, with tensor and scalar arguments, and stages that feed each other. */
const REDUCING: Record<string, string> = {
  clip: `def train(w, g, m, lr):
  m = 0.9 * m + clip(g, 0.5)
  return lr * m, m`,
  'global_norm and norm': `def train(w, g, lr):
  n = global_norm(g)
  k = norm(w) / (norm(g) + 1e-8)
  return lr * k * g / (n + 1e-8), `,
  'cosine_sim and dot': `def train(w, g, g_prev, lr):
  c = cosine_sim(g, g_prev)
  d = dot(g, w)
  return lr * (g + c * g_prev + 0.001 * d * w), g`,
  'reductions of numbers and of lr': `def train(w, g, lr, step):
  a = global_norm(lr)
  b = norm(step)
  c = clip(lr, 0.01)
  return (a + c) * g / b, `,
  'a reduction of a reduction': `def train(w, g, lr):
  n = norm(g)
  t = global_norm(n * g)
  u = clip(g * n, t)
  return lr * u, `,
};

/** Programs whose elementwise part has functions without a SIMD form (called lane by lane) and every SIMD form. */
const ELEMENTWISE: Record<string, string> = {
  'functions without a SIMD form': `def train(w, g, m, v, lr, step):
  m = 0.9 * m + 0.1 * g
  v = maximum(v, abs(g))
  a = tanh(m) * exp(-abs(g)) + log1p(square(g)) * 0.01 + sin(w) * cos(g) * 0.001
  b = (abs(m) + 0.5) ** 1.5 + cbrt(g) + arctan(g) + expm1(g * 0.1) + exp2(g) * 0.001
  return lr * (a + 0.01 * b) / (sqrt(v) + 1e-8), m, v`,
  'every SIMD form': `def train(w, g, m, lr, step):
  c = where(g > 0, g, -g * 0.5) + where(g <= m, 1, 0) + (g < 0) - (g >= w) + (g == g) * (w != 0)
  d = clamp(g, -0.1, 0.2) + minimum(g, m) * maximum(w, g) + cube(g) + reciprocal(abs(w) + 1)
  m = interp(g, m, 0.9) + float32(sign(g) * 0.01)
  e = sqrt(abs(m)) / (square(g) + 1) - negative(c * 0.01) + d
  return lr * e, m`,
};

const SHAPES: number[][] = [[7, 5], [5], [3, 2, 4], []];

function random(r: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/**
 * Trains `steps` steps from the same weights and gradients both ways;
 * returns the largest difference between them (relative to 1 + |value|) in
 * weights and state, and the tensors the fused path left over.
 */
function compare(p: Program, K: number | null, steps: number): { diff: number; leaked: number; scale: number } {
  const r = mulberry32(7);
  const lrs = K === null ? [0.01] : Array.from({ length: K }, (_, k) => 10 ** (-3 + k / 2));
  const shapeOf = (s: number[]) => (K === null ? s : [K, ...s]);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const w0 = SHAPES.map((s) => tf.tensor(random(r, size(shapeOf(s))), shapeOf(s)));
  const grads = Array.from({ length: steps }, () => SHAPES.map((s) => tf.tensor(random(r, size(shapeOf(s)), 0.3), shapeOf(s))));
  const compiled = compile(p, { tf, ...(K === null ? {} : { replicas: K }) });
  const fused = fusedStep(tf, compiled.lowered)!;
  expect(fused).not.toBeNull();
  const init = () => w0.map((w) => compiled.slots.map((sl) => tf.fill(w.shape, sl.init)));
  let a = { w: w0.map((w) => w.clone()), s: init() };
  let b = { w: w0.map((w) => w.clone()), s: init() };
  let leaked = 0;
  for (let t = 1; t <= steps; t++) {
    const gs = grads[t - 1]!;
    const na = tf.tidy(() => {
      const lr = K === null ? lrs[0]! : tf.tensor1d(lrs);
      const out = compiled.step(a.w, gs, a.s, lr, t);
      return { w: a.w.map((w, i) => tf.sub(w, out.updates[i]!)), s: out.states.map((s) => s.map((x) => x.clone())) };
    });
    const before = tf.memory().numTensors;
    const nb = tf.tidy(() => {
      const out = fused(b.w, gs, b.s, lrs, t);
      return { w: out.params, s: out.states.map((s, i) => s.map((x, j) => (x === b.s[i]![j] ? x.clone() : x))) };
    });
    leaked += tf.memory().numTensors - before - nb.w.length - nb.s.flat().length;
    tf.dispose([...a.w, ...a.s.flat(), ...b.w, ...b.s.flat()]);
    a = na;
    b = nb;
  }
  let diff = 0;
  let scale = 0;
  const all = (x: typeof a) => [...x.w, ...x.s.flat()];
  all(a).forEach((ta, i) => {
    const va = ta.dataSync();
    const vb = all(b)[i]!.dataSync();
    for (let j = 0; j < va.length; j++) {
      const d = Math.abs(va[j]! - vb[j]!) / (1 + Math.abs(va[j]!));
      diff = Math.max(diff, Number.isNaN(d) ? (Number.isNaN(va[j]!) && Number.isNaN(vb[j]!) ? 0 : Infinity) : d);
      scale = Math.max(scale, Math.abs(va[j]!));
    }
  });
  tf.dispose([...all(a), ...all(b), ...w0, ...grads.flat()]);
  compiled.dispose();
  return { diff, leaked, scale };
}

beforeAll(async () => {
  await initBackend('wasm');
  await tf.setBackend('wasm');
});

describe('fused step against the compiled ops (wasm)', () => {
  const files = seedFiles(SEED_DIR);

  it('finds the seeds', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    const name = file.slice(SEED_DIR.length);
    it(`${name}: agrees over 6 steps, unstacked and with 3 stacked replicas`, () => {
      const p = parse(readFileSync(file, 'utf8'));
      // Every seed without a reduction has a SIMD loop (the path wasm takes).
      const low = lower(p);
      expect(fuse(low).simd === null).toBe(low.instrs.some((i) => i.row?.form === 'reduction'));
      for (const K of [null, 3]) {
        const r = compare(p, K, 6);
        if (process.env.SHOW_DIFF) console.log(name, K, r.diff);
        expect(r.diff, `${name}, K=${K}`).toBeLessThan(2e-5);
        expect(r.leaked).toBe(0);
        // Something moved: the comparison is not of two untouched copies.
        expect(r.scale).toBeGreaterThan(0);
      }
    });
  }

  for (const [what, src] of Object.entries({ ...REDUCING, ...ELEMENTWISE })) {
    it(`${what}: agrees over 4 steps, unstacked and stacked`, () => {
      const p = parse(src);
      // With a reduction, the JavaScript loop; else SIMD.
      expect(fuse(lower(p)).simd === null).toBe(what in REDUCING);
      for (const K of [null, 2]) {
        const r = compare(p, K, 4);
        if (process.env.SHOW_DIFF) console.log(what, K, r.diff);
        expect(r.diff, `${what}, K=${K}`).toBeLessThan(2e-5);
        expect(r.leaked).toBe(0);
      }
    });
  }

  it('a reduction with a scalar result reads only its sums (what the fused step assumes)', () => {
    const r = mulberry32(3);
    for (const row of FUNCTIONS.filter((x): x is ReductionRow => x.form === 'reduction' && x.result === 'scalar')) {
      const acc = row.terms(...row.args.map(() => r() + 0.5));
      const a = row.finish(acc, row.args.map(() => 0));
      const b = row.finish(acc, row.args.map(() => Float64Array.from([r(), r()])));
      expect(b, row.name).toBe(a);
    }
  });
});
