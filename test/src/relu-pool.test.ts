/**
 * relu then 2x2 max-pool, and its gradient, as SIMD passes
 * (src/train/relu-pool.ts) against the tfjs forms layers.patchConvReluPool
 * used before them, on the real wasm backend: the same values exactly, ties
 * and zero windows included.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../dsl/mulberry32.js';
import { initBackend } from '../../src/backend.js';
import { biasReluPool, reluPoolGrad } from '../../src/train/relu-pool.js';

beforeAll(async () => {
  await initBackend('wasm');
  await tf.setBackend('wasm');
});

/** The tfjs form: dp where p > 0 and z equals its window's maximum. */
function reference(z: tf.Tensor4D, p: tf.Tensor4D, dp: tf.Tensor4D): tf.Tensor {
  const [B, side, , f] = z.shape;
  const half = side / 2;
  const windows = tf.reshape(z, [B * half, 2, half, 2, f]);
  const pooled = (t: tf.Tensor) => tf.reshape(t, [B * half, 1, half, 1, f]);
  const g = pooled(tf.mul(dp, tf.step(p)));
  const notMax = tf.step(tf.sub(pooled(p), windows));
  return tf.reshape(tf.sub(g, tf.mul(g, notMax)), z.shape);
}

describe('relu + max-pool gradient as one SIMD pass (wasm)', () => {
  for (const [B, side, f] of [[64, 24, 8], [2, 4, 4], [3, 2, 12]] as const) {
    it(`agrees exactly with the tfjs form on [${B}, ${side}, ${side}, ${f}]`, () => {
      const r = mulberry32(side * 31 + f);
      // Rounded to a coarse grid and put through a relu: ties and all-zero windows happen.
      const z = tf.relu(tf.tensor4d(Float32Array.from({ length: B * side * side * f }, () => Math.round((r() - 0.4) * 8) / 4), [B, side, side, f]));
      const p = tf.maxPool(z as tf.Tensor4D, 2, 2, 'valid');
      const dp = tf.tensor4d(Float32Array.from({ length: p.size }, () => r() - 0.5), p.shape);
      const before = tf.memory().numTensors;
      const fast = reluPoolGrad(tf, z, p, dp)!;
      expect(fast).not.toBeNull();
      expect(tf.memory().numTensors).toBe(before + 1);
      const want = reference(z as tf.Tensor4D, p, dp);
      expect(fast.shape).toEqual(z.shape);
      const a = fast.dataSync();
      const b = want.dataSync();
      let nonzero = 0;
      let differ = 0;
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) differ++; // -0 and 0 alike
        if (a[i] !== 0) nonzero++;
      }
      expect(differ).toBe(0);
      expect(nonzero).toBeGreaterThan(a.length / 10);
      tf.dispose([z, p, dp, fast, want]);
    });
  }

  for (const [B, side, f] of [[64, 24, 8], [2, 4, 4], [3, 2, 12]] as const) {
    it(`forward: relu(m + b) and its pool agree exactly with tfjs on [${B}, ${side}, ${side}, ${f}]`, () => {
      const r = mulberry32(side * 17 + f);
      const m = tf.tensor2d(Float32Array.from({ length: B * side * side * f }, () => Math.round((r() - 0.5) * 8) / 4), [B * side * side, f]);
      const b = tf.tensor1d(Float32Array.from({ length: f }, () => r() - 0.5));
      const [z, p] = biasReluPool(tf, m, b, B, side)!;
      const z0 = tf.reshape(tf.relu(tf.add(m, b)), [B, side, side, f]) as tf.Tensor4D;
      const p0 = tf.maxPool(z0, 2, 2, 'valid');
      expect(z!.shape).toEqual(z0.shape);
      expect(p!.shape).toEqual(p0.shape);
      expect(Array.from(z!.dataSync())).toEqual(Array.from(z0.dataSync()));
      expect(Array.from(p!.dataSync())).toEqual(Array.from(p0.dataSync()));
      expect(p0.max().dataSync()[0]).toBeGreaterThan(0);
      tf.dispose([m, b, z!, p!, z0, p0]);
    });
  }

  it('declines shapes it does not cover (odd side, channels not a multiple of 4)', () => {
    const z = tf.zeros([1, 5, 5, 4]);
    const z2 = tf.zeros([1, 4, 4, 6]);
    expect(reluPoolGrad(tf, z, tf.zeros([1, 2, 2, 4]), tf.zeros([1, 2, 2, 4]))).toBeNull();
    expect(reluPoolGrad(tf, z2, tf.zeros([1, 2, 2, 6]), tf.zeros([1, 2, 2, 6]))).toBeNull();
  });
});
