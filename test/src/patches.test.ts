/**
 * Image patches and their transpose in one pass (src/train/patches.ts)
 * against the tfjs form (layers.imagePatches: a convolution with a one-hot
 * filter bank, then a transpose), on the real wasm backend: the same values.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../dsl/mulberry32.js';
import { initBackend } from '../../src/backend.js';
import { imagePatches } from '../../src/train/layers.js';
import { patchesAndTranspose } from '../../src/train/patches.js';

beforeAll(async () => {
  await initBackend('wasm');
  await tf.setBackend('wasm');
});

describe('image patches and their transpose in one pass (wasm)', () => {
  for (const [shape, k] of [[[4, 28, 28, 1], 5], [[2, 7, 6, 3], 3], [[1, 3, 3, 2], 3]] as const) {
    it(`agree with the convolution's on [${shape.join(', ')}], ${k}x${k}`, () => {
      const r = mulberry32(shape[1] * 7 + k);
      const x = tf.tensor4d(Float32Array.from({ length: shape.reduce((a: number, b: number) => a * b, 1) }, () => r() - 0.5), [...shape]);
      const before = tf.memory().numTensors;
      const [rows, cols] = patchesAndTranspose(tf, x, k, k)!;
      expect(tf.memory().numTensors).toBe(before + 2);
      const want = imagePatches(tf, x, k, k);
      expect(rows!.shape).toEqual(want.shape);
      expect(Array.from(rows!.dataSync())).toEqual(Array.from(want.dataSync()));
      const wantT = tf.transpose(want);
      expect(cols!.shape).toEqual(wantT.shape);
      expect(Array.from(cols!.dataSync())).toEqual(Array.from(wantT.dataSync()));
      tf.dispose([x, rows!, cols!, want, wantT]);
    });
  }
});
