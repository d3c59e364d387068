import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { WASM_DELEGATED_KERNELS, initBackend, isBackendName } from '../../src/backend.js';

describe('backend selection', () => {
  it('auto takes tensorflow where it loads, else wasm, and says why', async () => {
    const info = await initBackend('auto');
    expect(['tensorflow', 'wasm']).toContain(info.name);
    if (info.name === 'wasm') {
      // tfjs-node(-gpu) are optional and not installed here: the detail says so.
      expect(info.detail).toMatch(/^wasm: @tensorflow\/tfjs-backend-wasm \(.*tfjs-node-gpu (not installed|failed to load).*\)$/);
    }
    expect(tf.getBackend()).toBe(info.tfBackend);
  });

  it('is idempotent', async () => {
    const a = initBackend('wasm');
    const b = initBackend('wasm');
    expect(a).toBe(b);
    expect((await a).name).toBe('wasm');
  });

  it('a missing tensorflow backend is an error with the reason', async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(/tensorflow backend is not available: @tensorflow\/tfjs-node-gpu/);
  });

  it('names', () => {
    expect(isBackendName('cpu')).toBe(true);
    expect(isBackendName('gpu')).toBe(false);
  });
});

describe('wasm kernels delegated to cpu', () => {
  /** Runs f on cpu and on wasm with the same inputs; the results must agree. */
  const both = async (f: () => tf.Tensor | tf.Tensor[]) => {
    const out: number[][][] = [];
    for (const b of ['cpu', 'wasm']) {
      await initBackend(b as 'cpu' | 'wasm');
      await tf.setBackend(b);
      const before = tf.memory().numTensors;
      const r = tf.tidy(f);
      const rs = Array.isArray(r) ? r : [r];
      out.push(rs.map((t) => Array.from(t.dataSync())));
      tf.dispose(rs);
      expect(tf.memory().numTensors).toBe(before);
    }
    return out as [number[][], number[][]];
  };

  it('covers what wasm lacks', async () => {
    await initBackend('wasm');
    for (const k of WASM_DELEGATED_KERNELS) expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
  });

  it('conv2d filter gradient (Conv2DBackpropFilter)', async () => {
    const [c, w] = await both(() => {
      const x = tf.tensor4d(Array.from({ length: 2 * 6 * 6 * 2 }, (_, i) => Math.sin(i)), [2, 6, 6, 2]);
      const f = tf.tensor4d(Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => Math.cos(i)), [3, 3, 2, 4]);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'))))([x, f]);
    });
    for (let i = 0; i < 2; i++) c[i]!.forEach((v, j) => expect(w[i]![j]).toBeCloseTo(v, 3));
  });

  it('gather gradient (UnsortedSegmentSum)', async () => {
    const [c, w] = await both(() => {
      const e = tf.tensor2d(Array.from({ length: 5 * 3 }, (_, i) => i / 7), [5, 3]);
      const idx = tf.tensor1d([0, 2, 2, 4, 0, 0], 'int32');
      return tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.gather(a, idx))))(e);
    });
    expect(w[0]).toEqual(c[0]);
    expect(c[0]![0]).toBeCloseTo(3 * 2 * 0, 6);
  });

  it('depthwise convolution gradients', async () => {
    const [c, w] = await both(() => {
      const x = tf.tensor4d(Array.from({ length: 1 * 5 * 5 * 2 }, (_, i) => Math.sin(i)), [1, 5, 5, 2]);
      const f = tf.tensor4d(Array.from({ length: 3 * 3 * 2 * 1 }, (_, i) => Math.cos(i)), [3, 3, 2, 1]);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'))))([x, f]);
    });
    for (let i = 0; i < 2; i++) c[i]!.forEach((v, j) => expect(w[i]![j]).toBeCloseTo(v, 3));
  });
});

describe('OPTEVO_TF_FLAGS', () => {
  it('sets the tfjs flags it names, and refuses anything else in one line', async () => {
    const { applyFlags } = await import('../../src/backend.js');
    const tfjs = await import('@tensorflow/tfjs');
    const before = tfjs.env().get('WEBGL_PACK');
    applyFlags('{"WEBGL_PACK": false}');
    expect(tfjs.env().get('WEBGL_PACK')).toBe(false);
    tfjs.env().set('WEBGL_PACK', before);
    applyFlags(undefined);
    applyFlags('');
    expect(() => applyFlags('{nope')).toThrow(/^OPTEVO_TF_FLAGS: not JSON/);
    expect(() => applyFlags('[1]')).toThrow(/^OPTEVO_TF_FLAGS: expected a JSON object/);
    expect(() => applyFlags('{"NO_SUCH_FLAG": 1}')).toThrow("OPTEVO_TF_FLAGS: tfjs has no flag 'NO_SUCH_FLAG'");
    expect(() => applyFlags('{"WEBGL_PACK": [1]}')).toThrow(/must be a number, boolean or string/);
  });
});
