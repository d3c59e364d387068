import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Program } from '../../dsl/ast.js';
import { compile } from '../../dsl/compile.js';
import { FUNCTIONS, scalarOnly } from '../../dsl/functions.js';
import { interpreter } from '../../dsl/interpret.js';
import { parse } from '../../dsl/parse.js';
import { print } from '../../dsl/print.js';
import { simplify } from '../../dsl/simplify.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.env().set('PROD', true);
});

/** Runs a program for `steps` steps both ways and returns the weights. */
function bothWays(p: Program, steps: number, hparams: Record<string, number> = {}) {
  const w0 = [Float64Array.from([0.3, -0.7, 0.2, 0.9]), Float64Array.from([0.5, -0.1])];
  const grad = (w: Float64Array, s: number) => w.map((x, i) => 0.4 * x + 0.05 * Math.sin(i + s));
  const it = interpreter(p, hparams);
  let ws = w0;
  let st = it.init(ws);
  const c = compile(p, { tf, hparams });
  let tws = w0.map((w) => tf.tensor(Array.from(w)));
  let tst = tws.map((w) => c.slots.map((s) => tf.fill(w.shape, s.init)));
  const leaks: number[] = [];
  for (let s = 1; s <= steps; s++) {
    const gs = ws.map((w) => grad(w, s));
    const r = it.step(ws, gs, st, 0.05);
    st = r.state;
    ws = ws.map((w, k) => w.map((x, i) => x - r.updates[k]![i]!));
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const tgs = tws.map((w) => tf.tensor(Array.from(grad(Float64Array.from(w.dataSync()), s))));
      const o = c.step(tws, tgs, tst, 0.05, s);
      return { w: tws.map((w, k) => tf.sub(w, o.updates[k]!)), st: o.states };
    });
    tws.forEach((t) => t.dispose());
    tst.flat().forEach((t) => t.dispose());
    tws = out.w;
    tst = out.st;
    leaks.push(tf.memory().numTensors - before);
  }
  const tfw = tws.map((t) => Array.from(t.dataSync()));
  tws.forEach((t) => t.dispose());
  tst.flat().forEach((t) => t.dispose());
  c.dispose();
  return { ref: ws.map((w) => Array.from(w)), tf: tfw, leaks };
}

function expectClose(a: number[][], b: number[][], rel = 2e-5) {
  a.forEach((row, k) =>
    row.forEach((x, i) => {
      const y = b[k]![i]!;
      if (Number.isNaN(x)) expect(Number.isNaN(y)).toBe(true);
      else expect(Math.abs(x - y)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(x)));
    }),
  );
}

describe('the tfjs compiler agrees with the float64 interpreter', () => {
  // One row of the function table at a time, so a new function is tested by adding its row.
  const safeArg = (name: string) => (['arcsin', 'arccos', 'arctanh'].includes(name) ? 'tanh(g) * 0.5' : ['arccosh'].includes(name) ? 'abs(g) + 1.5' : 'g');
  it.each(FUNCTIONS.map((r) => [r.name, r] as const))('%s', (name, row) => {
    const args = row.args.map((k, i) => (scalarOnly(k) ? '0.7' : i === 0 ? safeArg(name) : i === 1 ? 'm' : 'w'));
    const src = `def train(w, g, m, lr):\n  x = ${name}(${args.join(', ')})\n  u = g * lr + x * lr * 0.1\n  m = m * 0.5 + g\n  return u, m\n`;
    const { ref, tf: t, leaks } = bothWays(parse(src), 4);
    expectClose(ref, t, 1e-4);
    // The first step may make constants it keeps (1 - a of a literal a); after it, nothing grows.
    expect(leaks.slice(1).every((n) => n === 0)).toBe(true);
  });

  // fast-check seed -162959032: `optevo simplify` folded global_norm(-0.001) to 0.001.
  it('a reduction of numbers means one thing: folding, interpreter and compiler agree', () => {
    const src = `def train(w, g, lr):\n  s1 = global_norm(-0.001)\n  s2 = norm(-0.001)\n  u = g * lr + interp(w, 0, s1) + s2 * w\n  return u\n`;
    const p = parse(src);
    const s = simplify(p);
    // Per tensor, a number's norm is a literal; the global one depends on how many parameters there are.
    expect(print(s)).toContain('global_norm(-0.001)');
    expect(print(s)).not.toContain('norm(-0.001) *');
    const direct = bothWays(p, 3);
    const simplified = bothWays(s, 3);
    expectClose(direct.ref, direct.tf);
    expectClose(direct.ref, simplified.ref, 1e-12);
    expectClose(simplified.ref, simplified.tf);
    // Over the two parameters here, a number counts once per parameter: sqrt(2) * 0.001.
    const it1 = interpreter(parse('def train(w, g, lr):\n  u = global_norm(-0.001) + g * 0\n  return u\n'));
    const ws = [Float64Array.of(1, 2), Float64Array.of(3)];
    expect(it1.step(ws, ws, it1.init(ws), 0.1).updates[0]![0]).toBeCloseTo(Math.SQRT2 * 0.001, 15);
  });

  it('adam with bias correction from step, for 30 steps', () => {
    const src = `beta1 = 0.9\nbeta2 = 0.999\neps = 1e-8\ndef train(w, g, m, v, lr, step):\n  m = interp(g, m, beta1)\n  v = interp(g * g, v, beta2)\n  u = lr * (m / (1 - beta1 ** step)) / (sqrt(v / (1 - beta2 ** step)) + eps)\n  return u, m, v\n`;
    const { ref, tf: t } = bothWays(parse(src), 30);
    expectClose(ref, t);
  });

  it('hyperparameter overrides, and initial state values', () => {
    const src = `decay = 0.5\ndef train(w, g, s=2.0, lr):\n  s = s * decay + g\n  return s * lr, s\n`;
    const a = bothWays(parse(src), 5, { decay: 0.25 });
    const b = bothWays(parse(src.replace('decay = 0.5', 'decay = 0.25')), 5);
    expect(a.tf).toEqual(b.tf);
    expectClose(a.ref, a.tf);
  });

  it('global reductions see every parameter; per-tensor ones see their own', () => {
    const src = `def train(w, g, lr):\n  u = clip(g, 0.1) + g * norm(g) + g * global_norm(w)\n  return u * lr\n`;
    const { ref, tf: t } = bothWays(parse(src), 3);
    expectClose(ref, t);
  });
});

describe('stacked replicas', () => {
  it('K replicas with per-replica lr and reductions equal K separate runs', () => {
    const src = `def train(w, g, m, lr):\n  m = interp(g, m, 0.9)\n  u = clip(m, 0.05) / (norm(m) + 1) + g * cosine_sim(g, w) + w * dot(g, m)\n  return u * lr, m\n`;
    const p = parse(src);
    const lrs = [0.01, 0.1, 0.5];
    const K = lrs.length;
    const w0 = [[0.3, -0.7, 0.2, 0.9, 0.1, 0.4], [0.5, -0.1]];
    const shapes = [[2, 3], [2]];
    const grad = (w: tf.Tensor) => tf.add(tf.mul(w, 0.4), 0.05);
    // Separate runs.
    const separate = lrs.map((lr) => {
      const c = compile(p, { tf });
      let ws = w0.map((w, k) => tf.tensor(w, shapes[k]));
      let st = ws.map((w) => [tf.zerosLike(w)]);
      for (let s = 1; s <= 5; s++) {
        const o = tf.tidy(() => {
          const r = c.step(ws, ws.map(grad), st, lr, s);
          return { ws: ws.map((w, k) => tf.sub(w, r.updates[k]!)), st: r.states };
        });
        ws = o.ws;
        st = o.st;
      }
      return ws.map((w) => Array.from(w.dataSync()));
    });
    // One stacked run.
    const c = compile(p, { tf, replicas: K });
    let ws = w0.map((w, k) => tf.tensor(lrs.flatMap(() => w), [K, ...shapes[k]!]));
    let st = ws.map((w) => [tf.zerosLike(w)]);
    const lr = tf.tensor(lrs);
    for (let s = 1; s <= 5; s++) {
      const o = tf.tidy(() => {
        const r = c.step(ws, ws.map(grad), st, lr, s);
        return { ws: ws.map((w, k) => tf.sub(w, r.updates[k]!)), st: r.states };
      });
      ws = o.ws;
      st = o.st;
    }
    lrs.forEach((_, r) => {
      ws.forEach((w, k) => {
        const got = Array.from(tf.gather(w, r).dataSync());
        got.forEach((x, i) => expect(x).toBeCloseTo(separate[r]![k]![i]!, 5));
      });
    });
  });
});
