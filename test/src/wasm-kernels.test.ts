import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend.js';
import { FUNCTIONS } from '../../dsl/functions.js';
import { copyBox } from '../../src/wasm-kernels.js';

/** Runs f on cpu and on wasm (with optevo's kernels) on the same inputs; returns both results and the tensors left over. */
async function both(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: number[][]; wasm: number[][]; leaked: number }> {
  const out: Record<string, number[][]> = {};
  let leaked = 0;
  for (const b of ['cpu', 'wasm'] as const) {
    await initBackend(b);
    await tf.setBackend(b);
    const before = tf.memory().numTensors;
    const r = tf.tidy(f);
    const rs = Array.isArray(r) ? r : [r];
    out[b] = rs.map((t) => Array.from(t.dataSync()));
    tf.dispose(rs);
    leaked += tf.memory().numTensors - before;
  }
  return { cpu: out.cpu!, wasm: out.wasm!, leaked };
}

const range = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.5 - 3), shape);

describe('copyBox', () => {
  it('copies a box of a row-major array, contiguous or not', () => {
    const x = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const out = new Float32Array(1 * 2 * 2);
    copyBox(x, [2, 3, 4], [1, 1, 2], [1, 2, 2], out);
    expect(Array.from(out)).toEqual([18, 19, 22, 23]);
    const whole = new Float32Array(24);
    copyBox(x, [2, 3, 4], [0, 0, 0], [2, 3, 4], whole);
    expect(whole).toEqual(x);
  });
});

describe('wasm Identity, Slice, Unpack and SplitV', () => {
  it('agree with cpu on contiguous and strided slices', async () => {
    const r = await both(() => {
      const x = range([3, 4, 5]);
      return [
        tf.slice(x, [1, 0, 0], [2, -1, -1]),
        tf.slice(x, [0, 1, 2], [3, 2, 3]),
        tf.slice(x, [2, 3, 4], [1, 1, 1]),
        tf.slice(range([7]), [2], [4]),
        tf.slice(tf.cast(range([4, 3]), 'int32'), [1, 1], [2, 2]),
      ];
    });
    expect(r.wasm).toEqual(r.cpu);
    expect(r.leaked).toBe(0);
  });

  it('unstack and split agree with cpu on every axis', async () => {
    const r = await both(() => {
      const x = range([2, 3, 4]);
      return [...tf.unstack(x, 0), ...tf.unstack(x, 1), ...tf.unstack(x, 2), ...tf.split(x, [1, 3], 2), ...tf.split(x, 3, 1)];
    });
    expect(r.wasm).toEqual(r.cpu);
    expect(r.leaked).toBe(0);
  });

  it('a clone shares the data and outlives its source', async () => {
    await initBackend('wasm');
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = range([4, 4]);
    const c = tf.clone(x);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual(Array.from({ length: 16 }, (_, i) => i * 0.5 - 3));
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradients through slices, stacks and clones agree with cpu', async () => {
    const r = await both(() => {
      const x = range([3, 2, 4]);
      const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.stack(tf.unstack(t).map((u, i) => tf.mul(u, i + 1))), tf.slice(tf.clone(t), [0, 0, 0], [3, 2, 4])));
      return tf.grad(f)(x);
    });
    expect(r.wasm).toEqual(r.cpu);
  });
});

describe('the DSL on wasm', () => {
  it("sign is Math.sign, also where wasm's Sign is not (|x| below float32 epsilon, subnormals, NaN)", async () => {
    await initBackend('wasm');
    await tf.setBackend('wasm');
    const xs = [NaN, -Infinity, -2, -1e-7, -1e-40, 0, 1e-40, 1e-7, 5e-8, 3, Infinity];
    const sign = FUNCTIONS.find((r) => r.name === 'sign')!;
    if (sign.form !== 'elementwise') throw new Error('sign is elementwise');
    const got = tf.tidy(() => Array.from(sign.tf(tf as never, [tf.tensor1d(xs)]).dataSync()));
    expect(got).toEqual(xs.map((x) => Math.sign(x)));
  });
});
