/**
 * Generated WebAssembly kernels over tfjs-backend-wasm's heap: what they use
 * of the backend (4.22 internals: a tfjs upgrade must keep these) and of the
 * WebAssembly API (lib.dom declares it; this project compiles without DOM),
 * and their instances, one per module and heap.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';

declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: Record<string, unknown>;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
}

export interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  getMemoryOffset(dataId: object): number;
  wasm: { asm: { memory: WebAssembly.Memory } };
}

export type WasmModule = WebAssembly.Module;

export function compile(bytes: Uint8Array): WasmModule {
  return new WebAssembly.Module(bytes);
}

/** Instances by module, each importing the heap it was made for (as `e.m`). */
const instances = new WeakMap<WasmModule, { memory: WebAssembly.Memory; run: unknown }>();

/**
 * The module's exported `run`, instantiated over the backend's heap: again
 * when the backend has replaced its memory. `f` is the module's other
 * imports (functions it calls).
 */
export function runOn<R>(module: WasmModule, backend: WasmBackend, f?: object): R {
  const memory = backend.wasm.asm.memory;
  let made = instances.get(module);
  if (made?.memory !== memory) {
    const inst = new WebAssembly.Instance(module, f === undefined ? { e: { m: memory } } : { e: { m: memory }, f });
    instances.set(module, (made = { memory, run: inst.exports.run }));
  }
  return made.run as R;
}
