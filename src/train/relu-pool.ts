/**
 * The gradient of relu then 2x2 max-pool (stride 2) on wasm as one
 * WebAssembly SIMD pass over the heap: dz = dp where z is its window's
 * maximum p and p > 0, else 0 (layers.patchConvReluPool's rule). The tfjs
 * form is five full-size kernels (a broadcast subtract, a step, a multiply,
 * a subtract, and the relu's step and multiply at the pooled size), 11.7 ms
 * of a 37 ms step of the stacked standard CNN (issue 14).
 *
 * Its forward pass likewise: relu(m + b) and the 2x2 max-pool, in one pass
 * (wasm's Add, Relu and MaxPool: three passes).
 *
 * For z [B, side, side, f] with an even side and f a multiple of 4; the
 * caller keeps the tfjs form otherwise, and on other backends.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { runModule, sleb, uleb } from '../../dsl/simd.js';
import { compile, runOn, type WasmBackend, type WasmModule } from './wasm-heap.js';
import type { Tensor, Tfjs } from '../tasks/types.js';

export const RELU_POOL_GRAD = 'OptevoReluPoolGrad';
export const BIAS_RELU_POOL = 'OptevoBiasReluPool';

type Run = (a: number, b: number, c: number, d: number, windows: number, half: number, groups: number, side: number) => void;

/**
 * A loop over the 2x2 windows of [B, side, side, f] (even side, f = 4 *
 * groups), by 4-channel group: run(a, b, c, d, windows, half, groups, side)
 * with a..d byte offsets, then the pooled positions B * half * half,
 * positions per pooled row, 4-channel groups per position, and the side.
 * `group` writes the code for one group; `at(base, down, right)` pushes the
 * address of one of the window's positions in a full-size array, `pooled(base)`
 * that of the pooled position, `channel(base)` that of the group in a [f] array.
 */
function windowModule(group: (e: Emit) => void, v128s: number): Uint8Array {
  // Parameters 0-7; locals: zo, po, c, j, fb, down (i32), then v128s.
  const [N, HALF, G, SIDE] = [4, 5, 6, 7];
  const [ZO, PO, C, J, FB, DOWN] = [8, 9, 10, 11, 12, 13];
  const code: number[] = [];
  const op = (...b: number[]) => code.push(...b);
  const get = (l: number) => op(0x20, l);
  const set = (l: number) => op(0x21, l);
  const i32 = (v: number) => op(0x41, ...sleb(v));
  const add = () => op(0x6a);
  const e: Emit = {
    op,
    get,
    set,
    simd: (o) => op(0xfd, ...uleb(o)),
    v: (k) => 14 + k,
    at(base, down, right) {
      get(base);
      get(ZO);
      add();
      if (right) {
        get(FB);
        add();
      }
      if (down) {
        get(DOWN);
        add();
      }
    },
    pooled(base) {
      get(base);
      get(PO);
      add();
    },
    channel(base) {
      get(base);
      get(C);
      i32(16);
      op(0x6c);
      add();
    },
  };
  get(G);
  i32(16);
  op(0x6c);
  set(FB);
  get(SIDE);
  get(FB);
  op(0x6c);
  set(DOWN);
  op(0x02, 0x40); // block
  get(N);
  op(0x45, 0x0d, 0); // i32.eqz, br_if 0
  op(0x03, 0x40); // loop over pooled positions
  op(0x03, 0x40); // loop over 4-channel groups
  group(e);
  // Next group: zo += 16, po += 16, c++ until groups.
  for (const l of [ZO, PO]) {
    get(l);
    i32(16);
    add();
    set(l);
  }
  get(C);
  i32(1);
  add();
  op(0x22, C); // local.tee
  get(G);
  op(0x49, 0x0d, 0); // i32.lt_u, br_if 0
  op(0x0b);
  i32(0);
  set(C);
  // Next window: skip its right position; at a pooled row's end, the lower row too.
  get(ZO);
  get(FB);
  add();
  set(ZO);
  get(J);
  i32(1);
  add();
  op(0x22, J);
  get(HALF);
  op(0x46); // i32.eq
  op(0x04, 0x40); // if
  i32(0);
  set(J);
  get(ZO);
  get(DOWN);
  add();
  set(ZO);
  op(0x0b);
  get(N);
  i32(1);
  op(0x6b);
  op(0x22, N);
  op(0x0d, 0); // br_if 0
  op(0x0b, 0x0b, 0x0b); // end loop, block, function
  return runModule(8, [[...uleb(6), 0x7f], [...uleb(v128s), 0x7b]], code);
}

interface Emit {
  op(...b: number[]): void;
  get(l: number): void;
  set(l: number): void;
  simd(o: number): void;
  /** The local of scratch v128 number k. */
  v(k: number): number;
  at(base: number, down: 0 | 1, right: 0 | 1): void;
  pooled(base: number): void;
  channel(base: number): void;
}

const WINDOW: readonly (readonly [0 | 1, 0 | 1])[] = [[0, 0], [0, 1], [1, 0], [1, 1]];
const LOAD = 0x00;
const STORE = 0x0b;
const MEM = [2, 0]; // align 4 bytes, offset 0
const [F32X4_EQ, F32X4_GT, V128_AND, F32X4_ADD, F32X4_MAX, I32X4_SPLAT] = [0x41, 0x44, 0x4e, 0xe4, 0xe9, 0x11];

/** run(z, p, dp, out): out = dp & (p > 0) & (z == p), per window position. */
function gradBytes(): Uint8Array {
  const [Z, P, DP, OUT] = [0, 1, 2, 3];
  return windowModule((e) => {
    const [PV, GV] = [e.v(0), e.v(1)];
    e.pooled(P);
    e.simd(LOAD);
    e.op(...MEM);
    e.set(PV);
    e.pooled(DP);
    e.simd(LOAD);
    e.op(...MEM);
    e.get(PV);
    e.op(0x41, 0); // i32.const 0
    e.simd(I32X4_SPLAT); // 0.0f has all bits zero
    e.simd(F32X4_GT);
    e.simd(V128_AND);
    e.set(GV);
    for (const [down, right] of WINDOW) {
      e.at(OUT, down, right);
      e.get(GV);
      e.at(Z, down, right);
      e.simd(LOAD);
      e.op(...MEM);
      e.get(PV);
      e.simd(F32X4_EQ);
      e.simd(V128_AND);
      e.simd(STORE);
      e.op(...MEM);
    }
  }, 2);
}

/** run(m, b, z, p): z = relu(m + b) per window position, p = the window's maximum of z. */
function forwardBytes(): Uint8Array {
  const [M, B, Z, P] = [0, 1, 2, 3];
  return windowModule((e) => {
    const [BV, ZV, PV] = [e.v(0), e.v(1), e.v(2)];
    e.channel(B);
    e.simd(LOAD);
    e.op(...MEM);
    e.set(BV);
    WINDOW.forEach(([down, right], n) => {
      e.at(M, down, right);
      e.simd(LOAD);
      e.op(...MEM);
      e.get(BV);
      e.simd(F32X4_ADD);
      e.op(0x41, 0);
      e.simd(I32X4_SPLAT);
      e.simd(F32X4_MAX);
      e.set(ZV);
      e.at(Z, down, right);
      e.get(ZV);
      e.simd(STORE);
      e.op(...MEM);
      if (n === 0) {
        e.get(ZV);
        e.set(PV);
      } else {
        e.get(PV);
        e.get(ZV);
        e.simd(F32X4_MAX);
        e.set(PV);
      }
    });
    e.pooled(P);
    e.get(PV);
    e.simd(STORE);
    e.op(...MEM);
  }, 3);
}

let modules: { grad: WasmModule; forward: WasmModule } | undefined;

function runs(b: WasmBackend): { grad: Run; forward: Run } {
  modules ??= { grad: compile(gradBytes()), forward: compile(forwardBytes()) };
  return { grad: runOn<Run>(modules.grad, b), forward: runOn<Run>(modules.forward, b) };
}

const off = (b: WasmBackend, t: TensorInfo) => b.getMemoryOffset(t.dataId);

const gradKernel: KernelFunc = ({ inputs, backend }) => {
  const b = backend as unknown as WasmBackend;
  const [z, p, dp] = [inputs.z, inputs.p, inputs.dp] as TensorInfo[];
  const [B, side, , f] = z!.shape as [number, number, number, number];
  const half = side / 2;
  const out = b.makeOutput([...z!.shape], 'float32');
  runs(b).grad(off(b, z!), off(b, p!), off(b, dp!), off(b, out), B * half * half, half, f / 4, side);
  return out;
};

const forwardKernel: KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as unknown as WasmBackend;
  const [m, bias] = [inputs.m, inputs.b] as TensorInfo[];
  const { B, side } = attrs as unknown as { B: number; side: number };
  const f = bias!.shape[0]!;
  const half = side / 2;
  const z = b.makeOutput([B, side, side, f], 'float32');
  const p = b.makeOutput([B, half, half, f], 'float32');
  runs(b).forward(off(b, m!), off(b, bias!), off(b, z), off(b, p), B * half * half, half, f / 4, side);
  return [z, p];
};

let registered = false;

function usable(tf: Tfjs, side: number, f: number): boolean {
  if (tf.getBackend() !== 'wasm' || side % 2 !== 0 || f % 4 !== 0 || process.env.OPTEVO_POOL_SIMD === 'off') return false;
  if (!registered) {
    registered = true;
    if (!tf.getKernel(RELU_POOL_GRAD, 'wasm')) tf.registerKernel({ kernelName: RELU_POOL_GRAD, backendName: 'wasm', kernelFunc: gradKernel });
    if (!tf.getKernel(BIAS_RELU_POOL, 'wasm')) tf.registerKernel({ kernelName: BIAS_RELU_POOL, backendName: 'wasm', kernelFunc: forwardKernel });
  }
  return true;
}

/**
 * dz for z [B, side, side, f] (after the relu), its pool p and the pool's
 * gradient dp, where the SIMD pass applies (wasm, even side, f % 4 == 0); else null.
 */
export function reluPoolGrad(tf: Tfjs, z: Tensor, p: Tensor, dp: Tensor): Tensor | null {
  const [, side, sideW, f] = z.shape as [number, number, number, number];
  if (side !== sideW || !usable(tf, side, f)) return null;
  return tf.engine().runKernel(RELU_POOL_GRAD, { z, p, dp }) as Tensor;
}

/**
 * z = relu(m + b) as [B, side, side, f] and its 2x2 max-pool p, for m [B *
 * side * side, f] and b [f], in one SIMD pass where it applies (as
 * reluPoolGrad); else null.
 */
export function biasReluPool(tf: Tfjs, m: Tensor, bias: Tensor, B: number, side: number): [Tensor, Tensor] | null {
  const f = bias.shape[0]!;
  if (bias.rank !== 1 || m.shape[1] !== f || m.shape[0] !== B * side * side || !usable(tf, side, f)) return null;
  return tf.engine().runKernel(BIAS_RELU_POOL, { m, b: bias }, { B, side }) as unknown as [Tensor, Tensor];
}
