/**
 * Stacked-replica layer forms on wasm, side by side (issue 14): for each
 * shape, every variant's forward + backward (gradients of all parameters)
 * in CPU milliseconds per step, alternated, median of rounds.
 *
 * Run: npm run build && node dist/bench/layers.js [--rounds N]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';

type T = tf.Tensor;
type T2 = tf.Tensor2D;
type T3 = tf.Tensor3D;

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** First layer, K replicas, shared input: one GEMM over the replicas' weights side by side (the landed form). */
function inputConcat(x: T2, w: T, b: T, K: number): T {
  const [, inW, outW] = w.shape as [number, number, number];
  const B = x.shape[0];
  const f = tf.customGrad(((wt: T, bt: T) => {
    const wc = tf.reshape(tf.transpose(wt, [1, 0, 2]), [inW, K * outW]) as T2;
    const z = tf.transpose(tf.reshape(tf.matMul(x, wc), [B, K, outW]), [1, 0, 2]);
    return {
      value: tf.add(z, tf.expandDims(bt, 1)),
      gradFunc: (dy: T) => {
        const dyc = tf.reshape(tf.transpose(dy, [1, 0, 2]), [B, K * outW]) as T2;
        const dw = tf.transpose(tf.reshape(tf.matMul(tf.transpose(x), dyc), [inW, K, outW]), [1, 0, 2]);
        return [dw, tf.sum(dy, 1)];
      },
    };
  }) as never) as (w: T, b: T) => T;
  return f(w, b);
}

/** First layer as K plain 2-D matmuls (slices of the stacked weights; no transposes but x^T once). */
function inputSlices(x: T2, w: T, b: T, K: number): T {
  const f = tf.customGrad(((wt: T, bt: T) => {
    const ws = tf.unstack(wt) as T2[];
    const z = tf.stack(ws.map((wk) => tf.matMul(x, wk)));
    return {
      value: tf.add(z, tf.expandDims(bt, 1)),
      gradFunc: (dy: T) => {
        const xt = tf.transpose(x);
        const dys = tf.unstack(dy) as T2[];
        return [tf.stack(dys.map((d) => tf.matMul(xt, d))), sumMiddle(dy, K)];
      },
    };
  }) as never) as (w: T, b: T) => T;
  return f(w, b);
}

/** First layer as a broadcast batched matmul x[1,B,in] @ W[K,in,h]; gradient x^T[1,in,B] @ dy[K,B,h]. */
function inputBroadcast(x: T2, w: T, b: T, K: number): T {
  const f = tf.customGrad(((wt: T, bt: T) => {
    const z = tf.matMul(tf.expandDims(x, 0) as T3, wt as T3);
    return {
      value: tf.add(z, tf.expandDims(bt, 1)),
      gradFunc: (dy: T) => [tf.matMul(tf.expandDims(tf.transpose(x), 0) as T3, dy as T3), sumMiddle(dy, K)],
    };
  }) as never) as (w: T, b: T) => T;
  return f(w, b);
}

/** Sum over the middle axis of [K, B, h] as a batched ones-row matmul... or sum(dy, 1). */
function sumMiddle(dy: T, _K: number): T {
  return tf.sum(dy, 1);
}

/** Hidden layer, K replicas: batched matmul, gradient with batched transposes (the landed form). */
function hiddenBatched(h: T, w: T, b: T): T {
  const f = tf.customGrad(((ht: T, wt: T, bt: T, save: (t: T[]) => void) => {
    save([ht, wt]);
    return {
      value: tf.add(tf.matMul(ht as T3, wt as T3), tf.expandDims(bt, 1)),
      gradFunc: (dy: T, saved: T[]) => {
        const [hs, ws] = saved as [T3, T3];
        return [tf.matMul(dy as T3, tf.transpose(ws, [0, 2, 1]) as T3), tf.matMul(tf.transpose(hs, [0, 2, 1]) as T3, dy as T3), tf.sum(dy, 1)];
      },
    };
  }) as never) as (h: T, w: T, b: T) => T;
  return f(h, w, b);
}

/** Hidden layer as K plain 2-D matmuls per pass. */
function hiddenSlices(h: T, w: T, b: T): T {
  const f = tf.customGrad(((ht: T, wt: T, bt: T, save: (t: T[]) => void) => {
    save([ht, wt]);
    const hs = tf.unstack(ht) as T2[];
    const ws = tf.unstack(wt) as T2[];
    return {
      value: tf.add(tf.stack(hs.map((hk, k) => tf.matMul(hk, ws[k]!))), tf.expandDims(bt, 1)),
      gradFunc: (dy: T, saved: T[]) => {
        const hs2 = tf.unstack(saved[0]!) as T2[];
        const ws2 = tf.unstack(saved[1]!) as T2[];
        const dys = tf.unstack(dy) as T2[];
        return [
          tf.stack(dys.map((d, k) => tf.matMul(d, tf.transpose(ws2[k]!)))),
          tf.stack(dys.map((d, k) => tf.matMul(tf.transpose(hs2[k]!), d))),
          tf.sum(dy, 1),
        ];
      },
    };
  }) as never) as (h: T, w: T, b: T) => T;
  return f(h, w, b);
}

function time(step: () => void, reps: number): number {
  step();
  const c = cpu();
  for (let i = 0; i < reps; i++) step();
  return (cpu() - c) / reps;
}

async function main() {
  await initBackend('wasm');
  const i = process.argv.indexOf('--rounds');
  const rounds = i >= 0 ? Number(process.argv[i + 1]) : 3;
  const K = 8;
  const lines: string[] = ['CPU ms per forward+backward step (K = 8 replicas), median of rounds:'];
  for (const [B, inW, outW, reps] of [
    [128, 784, 128, 5],
    [32, 64, 32, 50],
    [64, 16, 64, 50],
  ] as const) {
    const x = tf.randomNormal([B, inW]) as T2;
    const w = tf.randomNormal([K, inW, outW]);
    const b = tf.zeros([K, outW]);
    const variants: Record<string, (x: T2, w: T, b: T) => T> = {
      concat: (x, w, b) => inputConcat(x, w, b, K),
      slices: (x, w, b) => inputSlices(x, w, b, K),
      broadcast: (x, w, b) => inputBroadcast(x, w, b, K),
    };
    const res: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++)
      for (const [name, f] of Object.entries(variants))
        (res[name] ??= []).push(
          time(() => tf.tidy(() => tf.grads((ww: T, bb: T) => tf.sum(f(x, ww, bb)))([w, b]).forEach((g) => g.dataSync())), reps),
        );
    lines.push(`  first layer x[${B},${inW}] W[${K},${inW},${outW}]: ${Object.entries(res).map(([n, v]) => `${n} ${median(v).toFixed(2)}`).join(', ')}`);
    const h = tf.randomNormal([K, B, inW]);
    const hv: Record<string, (h: T, w: T, b: T) => T> = { batched: hiddenBatched, slices: hiddenSlices };
    const rh: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++)
      for (const [name, f] of Object.entries(hv))
        (rh[name] ??= []).push(time(() => tf.tidy(() => tf.grads((hh: T, ww: T, bb: T) => tf.sum(f(hh, ww, bb)))([h, w, b]).forEach((g) => g.dataSync())), reps));
    lines.push(`  hidden layer h[${K},${B},${inW}] W[${K},${inW},${outW}]: ${Object.entries(rh).map(([n, v]) => `${n} ${median(v).toFixed(2)}`).join(', ')}`);
    tf.dispose([x, w, b, h]);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
  process.exitCode = 1;
});
