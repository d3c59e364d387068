/**
 * Image patches (im2col) on wasm as one pass over the heap: x [B, H, W, C]
 * gives the patches [B*H'*W', kh*kw*C] of a valid convolution and their
 * transpose, both at once. The tfjs form (layers.imagePatches) is a
 * convolution with a one-hot filter bank, then a transpose: 4.4 and about
 * 3.6 ms a step of the stacked standard CNN on wasm, for what is a copy;
 * this JavaScript copy takes about 4 (issue 14).
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tensor, Tfjs } from '../tasks/types.js';

export const IMAGE_PATCHES = 'OptevoImagePatches';

interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** Patches of x (row-major [B, H, W, C]) into rows [N, P] and columns [P, N], column p = (di * kw + dj) * C + c. */
export function im2col(x: Float32Array, shape: readonly [number, number, number, number], kh: number, kw: number, rows: Float32Array, cols: Float32Array): void {
  const [B, H, W, C] = shape;
  const oh = H - kh + 1;
  const ow = W - kw + 1;
  // Two passes, each writing in order.
  let n = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let di = 0; di < kh; di++) {
          const from = ((b * H + i + di) * W + j) * C;
          for (let q = 0; q < kw * C; q++) rows[n++] = x[from + q]!;
        }
      }
    }
  }
  n = 0;
  for (let di = 0; di < kh; di++) {
    for (let dj = 0; dj < kw; dj++) {
      for (let c = 0; c < C; c++) {
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < oh; i++) {
            let at = ((b * H + i + di) * W + dj) * C + c;
            for (let j = 0; j < ow; j++, at += C) cols[n++] = x[at]!;
          }
        }
      }
    }
  }
}

const kernel: KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as unknown as WasmBackend;
  const x = inputs.x as TensorInfo;
  const { kh, kw } = attrs as unknown as { kh: number; kw: number };
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const N = B * (H - kh + 1) * (W - kw + 1);
  const P = kh * kw * C;
  const rows = b.makeOutput([N, P], 'float32');
  const cols = b.makeOutput([P, N], 'float32');
  // Views after both outputs exist: making one may move the heap.
  im2col(b.typedArrayFromHeap(x), [B, H, W, C], kh, kw, b.typedArrayFromHeap(rows), b.typedArrayFromHeap(cols));
  return [rows, cols];
};

let registered = false;

/** [patches [N, P], patches^T [P, N]] of x for a valid kh x kw convolution, on wasm; null elsewhere. */
export function patchesAndTranspose(tf: Tfjs, x: Tensor, kh: number, kw: number): [Tensor, Tensor] | null {
  if (tf.getBackend() !== 'wasm' || x.rank !== 4 || x.dtype !== 'float32') return null;
  if (!registered) {
    registered = true;
    if (!tf.getKernel(IMAGE_PATCHES, 'wasm')) tf.registerKernel({ kernelName: IMAGE_PATCHES, backendName: 'wasm', kernelFunc: kernel });
  }
  return tf.engine().runKernel(IMAGE_PATCHES, { x }, { kh, kw }) as unknown as [Tensor, Tensor];
}
