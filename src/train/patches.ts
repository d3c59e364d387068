/**
 * Image patches (im2col) on wasm as one pass over the heap: x [B, H, W, C]
 * gives the patches [B*H'*W', kh*kw*C] of a valid convolution and their
 * transpose, both at once. The tfjs form (layers.imagePatches) is a
 * convolution with a one-hot filter bank, then a transpose: 4.4 and about
 * 3.6 ms a step of the stacked standard CNN on wasm, for what is a copy
 * (issue 14); a JavaScript loop over views of the heap took 4.8.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { runModule, sleb, uleb } from '../../dsl/simd.js';
import { compile, runOn, type WasmBackend, type WasmModule } from './wasm-heap.js';
import type { Tensor, Tfjs } from '../tasks/types.js';

export const IMAGE_PATCHES = 'OptevoImagePatches';

/**
 * im2col as WebAssembly over the heap (scalar loads and stores: the runs
 * are a few floats long): run(x, rows, cols, B, H, W, kh, kw, C), byte
 * offsets first. Rows: per output position, kh runs of kw * C floats;
 * columns: per patch element, every output position in order (column
 * p = (di * kw + dj) * C + c, as the one-hot filter bank orders them).
 */
function im2colBytes(): Uint8Array {
  const [X, ROWS, COLS, B, H, W, KH, KW, C] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [b, i, j, di, dj, c, q, dst, src, oh, ow, run] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  const code: number[] = [];
  const op = (...x: number[]) => code.push(...x);
  type E = number | (() => void);
  const push = (e: E) => (typeof e === 'number' ? op(0x20, ...uleb(e)) : e());
  const k = (v: number) => () => op(0x41, ...sleb(v));
  const bin = (o: number) => (...es: E[]) => () => {
    push(es[0]!);
    for (const e of es.slice(1)) {
      push(e);
      op(o);
    }
  };
  const add = bin(0x6a);
  const sub = bin(0x6b);
  const mul = bin(0x6c);
  const set = (l: number, e: E) => {
    push(e);
    op(0x21, ...uleb(l));
  };
  /** for (l = 0; l < limit; l++) body */
  const loop = (l: number, limit: E, body: () => void) => {
    set(l, k(0));
    op(0x02, 0x40, 0x03, 0x40); // block, loop
    push(l);
    push(limit);
    op(0x4f, 0x0d, 1); // i32.ge_u, br_if 1 (out)
    body();
    set(l, add(l, k(1)));
    op(0x0c, 0, 0x0b, 0x0b); // br 0, end loop, end block
  };
  /** *dst = *src (f32); dst += 4 */
  const copy = () => {
    push(dst);
    push(src);
    op(0x2a, 2, 0); // f32.load
    op(0x38, 2, 0); // f32.store
    set(dst, add(dst, k(4)));
  };
  set(oh, add(sub(H, KH), k(1)));
  set(ow, add(sub(W, KW), k(1)));
  set(run, mul(KW, C));
  // Rows: per output position, kh runs of kw * C floats.
  set(dst, ROWS);
  loop(b, B, () =>
    loop(i, oh, () =>
      loop(j, ow, () =>
        loop(di, KH, () => {
          set(src, add(X, mul(add(mul(add(mul(b, H), i, di), W), j), C, k(4))));
          loop(q, run, () => {
            copy();
            set(src, add(src, k(4)));
          });
        }),
      ),
    ),
  );
  // Columns: per patch element (di, dj, c), every output position in order.
  set(dst, COLS);
  loop(di, KH, () =>
    loop(dj, KW, () =>
      loop(c, C, () =>
        loop(b, B, () =>
          loop(i, oh, () => {
            set(src, add(X, mul(add(mul(add(mul(add(mul(b, H), i, di), W), dj), C), c), k(4))));
            loop(j, ow, () => {
              copy();
              set(src, add(src, mul(C, k(4))));
            });
          }),
        ),
      ),
    ),
  );
  op(0x0b);
  return runModule(9, [[...uleb(12), 0x7f]], code);
}

type Run = (x: number, rows: number, cols: number, B: number, H: number, W: number, kh: number, kw: number, C: number) => void;
let module: WasmModule | undefined;

function runFor(b: WasmBackend): Run {
  module ??= compile(im2colBytes());
  return runOn<Run>(module, b);
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
  const off = (t: TensorInfo) => b.getMemoryOffset(t.dataId);
  runFor(b)(off(x), off(rows), off(cols), B, H, W, kh, kw, C);
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
