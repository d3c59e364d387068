/**
 * The fused optimizer step (dsl/fuse.ts) as a tfjs kernel on the backends
 * that keep tensors in this process's memory: wasm (the SIMD loop of
 * dsl/simd.ts, instantiated over wasm's own heap; the JavaScript loop over
 * views of it for a program with a reduction) and cpu (the JavaScript loop
 * over its arrays). One kernel call per training step reads every weight,
 * gradient and state slot and writes the new weights and state; the tfjs
 * compiler's path made one kernel call, and one output, per operation.
 *
 * It runs as a registered kernel (not as JavaScript beside the engine) so
 * that the engine tracks its outputs in the caller's tidy like any other,
 * and `bench/profile.ts` times it like any other kernel.
 */
import type { KernelFunc, NamedAttrMap, NamedTensorMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { Tensor, Tfjs } from '../../dsl/functions.js';
import { type FusedParam, type FusedProgram, fuse } from '../../dsl/fuse.js';
import type { Lowered } from '../../dsl/lower.js';
import { emitSimd } from '../../dsl/simd.js';
import { compile, runOn, type WasmBackend, type WasmModule } from './wasm-heap.js';

export const FUSED_KERNEL = 'OptevoFusedStep';

/** The backends whose tensors the kernel can read directly. */
const BACKENDS = ['wasm', 'cpu'] as const;

/** One call's work, handed to the kernel as its (never serialised) attribute. */
interface Call {
  program: FusedProgram;
  /** The SIMD loop's module, where the program has one (used on wasm). */
  simd: Simd | null;
  /** Parameters' count; inputs are w, g and every slot per parameter, in order. */
  np: number;
  lr: readonly number[];
  step: number;
}

export interface FusedStep {
  /** New weights (w - update) and state per parameter; a slot the program keeps is its input tensor. Call inside a tidy. */
  (ws: readonly Tensor[], gs: readonly Tensor[], states: readonly (readonly Tensor[])[], lr: readonly number[], step: number): { params: Tensor[]; states: Tensor[][] };
}

/**
 * Elements a step may have (all parameters and replicas) for the JavaScript
 * loop on wasm, which a program with a reduction takes (no SIMD form): it
 * costs 2-7 ns an element against wasm's own kernels' 0.5-6 ns and 10-40 us
 * a call, so it wins on small models only (Lion and Adam on the stacked
 * tiny-lm, 26k elements: 3x faster; on the stacked standard CNN, 94k
 * elements: Lion 1.7x faster, Adam 0.9x).
 */
export const JS_LOOP_MAX_ELEMENTS = 50_000;

/**
 * A fused step for `low` on the current backend, or null where tensors live
 * elsewhere (a GPU, libtensorflow), or where the program would take the
 * JavaScript loop on wasm on more than JS_LOOP_MAX_ELEMENTS elements a step.
 * `lr` has one rate per stacked replica (one for an unstacked model).
 */
export function fusedStep(tf: Tfjs, low: Lowered, elements = 0): FusedStep | null {
  const backend = tf.getBackend();
  if (!(BACKENDS as readonly string[]).includes(backend)) return null;
  const program = fuse(low);
  if (backend === 'wasm' && !program.simd && elements > JS_LOOP_MAX_ELEMENTS) return null;
  register(tf);
  const simd = program.simd ? { module: compile(emitSimd(program.simd.spec)), imports: program.simd.imports } : null;
  const nslots = low.slotRegs.length;
  return (ws, gs, states, lr, step) => {
    const inputs: NamedTensorMap = {};
    let n = 0;
    ws.forEach((w, p) => {
      for (const t of [w, gs[p]!, ...states[p]!]) {
        if (t.dtype !== 'float32') throw new Error(`fused step: a ${t.dtype} tensor (float32 expected)`);
        inputs[String(n++)] = t;
      }
    });
    const call: Call = { program, simd, np: ws.length, lr, step };
    const outs = tf.engine().runKernel(FUSED_KERNEL, inputs, { call } as unknown as NamedAttrMap) as Tensor[];
    // Per parameter: the new weight, then each slot the program changes.
    let at = 0;
    const params: Tensor[] = [];
    const next = states.map((s) => {
      params.push(outs[at++]!);
      return s.map((t, j) => (program.slotKept[j] ? t : outs[at++]!));
    });
    if (at !== outs.length || next.some((s) => s.length !== nslots)) throw new Error('fused step: outputs do not match the program');
    return { params, states: next };
  };
}

/** How the kernel reaches a backend's memory. */
interface Memory {
  /** A new float32 output of `shape`. */
  output(shape: number[]): TensorInfo;
  /** The data of a tensor, valid until the next `output` (wasm's heap may grow). */
  view(t: TensorInfo): Float32Array;
}

type SimdRun = (...args: number[]) => void;

interface Simd {
  module: WasmModule;
  imports: Record<string, (...x: number[]) => number>;
}

const simdRun = (simd: Simd, backend: WasmBackend): SimdRun => runOn<SimdRun>(simd.module, backend, simd.imports);

interface CpuBackend {
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
  readSync(dataId: object): Float32Array;
}

function memoryOf(name: string, backend: unknown): Memory {
  if (name === 'wasm') {
    const b = backend as WasmBackend;
    return { output: (shape) => b.makeOutput(shape, 'float32'), view: (t) => b.typedArrayFromHeap(t) };
  }
  const b = backend as CpuBackend;
  return {
    output: (shape) => b.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, d) => a * d, 1))),
    view: (t) => b.readSync(t.dataId),
  };
}

function kernel(name: string): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { program, simd, np, lr, step } = (attrs as unknown as { call: Call }).call;
    const mem = memoryOf(name, backend);
    const nslots = program.slotKept.length;
    const per = 2 + nslots;
    const input = (p: number, k: number) => inputs[String(p * per + k)] as TensorInfo;
    // Every output first: making one may move wasm's heap, and with it every view.
    const outs: TensorInfo[] = [];
    const outW: TensorInfo[] = [];
    const outS: (TensorInfo | null)[][] = [];
    for (let p = 0; p < np; p++) {
      const shape = [...input(p, 0).shape];
      outs.push((outW[p] = mem.output(shape)));
      outS.push(program.slotKept.map((kept) => (kept ? null : (outs.push(mem.output(shape)), outs[outs.length - 1]!))));
    }
    if (name === 'wasm' && simd && program.simd) {
      runSimd(backend as WasmBackend, simdRun(simd, backend as WasmBackend), program, np, input, outW, outS, lr, step, mem);
      return outs;
    }
    const params: FusedParam[] = [];
    for (let p = 0; p < np; p++) {
      params.push({
        w: mem.view(input(p, 0)),
        g: mem.view(input(p, 1)),
        s: Array.from({ length: nslots }, (_, j) => mem.view(input(p, 2 + j))),
        outW: mem.view(outW[p]!),
        outS: outS[p]!.map((t) => (t ? mem.view(t) : null)),
      });
    }
    program.step(params, lr, step);
    return outs;
  };
}

/**
 * The step on wasm with SIMD: per parameter and replica, the loop over whole
 * groups of 4 elements in WebAssembly, the rest (under 4) in JavaScript.
 */
function runSimd(
  b: WasmBackend,
  run: SimdRun,
  program: FusedProgram,
  np: number,
  input: (p: number, k: number) => TensorInfo,
  outW: TensorInfo[],
  outS: (TensorInfo | null)[][],
  lr: readonly number[],
  step: number,
  mem: Memory,
): void {
  const R = lr.length;
  const scalars = lr.map((l) => program.simd!.scalars(l, step));
  const nslots = program.slotKept.length;
  for (let p = 0; p < np; p++) {
    const ins = [input(p, 0), input(p, 1), ...Array.from({ length: nslots }, (_, j) => input(p, 2 + j))];
    const outsP = [outW[p]!, ...outS[p]!.filter((t): t is TensorInfo => t !== null)];
    const inOff = ins.map((t) => b.getMemoryOffset(t.dataId));
    const outOff = outsP.map((t) => b.getMemoryOffset(t.dataId));
    const m = ins[0]!.shape.reduce((a, d) => a * d, 1) / R;
    const groups = Math.floor(m / 4);
    let views: FusedParam | undefined;
    for (let k = 0; k < R; k++) {
      const from = k * m;
      if (groups > 0) run(...inOff.map((o) => o + 4 * from), ...outOff.map((o) => o + 4 * from), groups, ...scalars[k]!);
      if (groups * 4 < m) {
        views ??= {
          w: mem.view(ins[0]!),
          g: mem.view(ins[1]!),
          s: ins.slice(2).map((t) => mem.view(t)),
          outW: mem.view(outW[p]!),
          outS: outS[p]!.map((t) => (t ? mem.view(t) : null)),
        };
        program.range(views, from + groups * 4, from + m, lr[k]!, step);
      }
    }
  }
}

const registered = new Set<string>();

function register(tf: Tfjs): void {
  for (const name of BACKENDS) {
    if (registered.has(name)) continue;
    registered.add(name);
    if (!tf.getKernel(FUSED_KERNEL, name)) tf.registerKernel({ kernelName: FUSED_KERNEL, backendName: name, kernelFunc: kernel(name) });
  }
}
