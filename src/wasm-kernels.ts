/**
 * Kernels that tfjs-backend-wasm runs slowly, replaced for wasm by cheaper
 * ones with the same results.
 *
 * Identity: wasm copies the tensor's data, and tfjs's engine calls it for
 * every tensor a kernel keeps for its gradient (engine.saveTensorsForBackwardMode
 * clones each one), so a training step copied every activation and weight
 * it differentiated through (4% of a standard-suite evaluation, issue 14).
 * Tensor data is never written in place (every wasm kernel writes a new
 * output), so the clone can share the data and count a reference, as wasm's
 * own Reshape and the cpu backend's Identity do.
 *
 * Slice, Unpack and SplitV: wasm's Slice first copies the whole input out of the
 * wasm heap into JavaScript (readSync), then copies the slice back, so an
 * unstack of K replicas copied the stacked tensor K times. These copy only
 * the slice, from a view of the heap.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

type Heap = Float32Array | Int32Array | Uint8Array;

interface WasmBackend {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: string): TensorInfo;
  /** A view of the tensor's data in the wasm heap (invalid once the heap grows). */
  typedArrayFromHeap(t: TensorInfo): Heap;
}

const sharedIdentity: KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as TensorInfo;
  (backend as unknown as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/**
 * Copies the box `begin` + `size` of x (shape `shape`) into out: one
 * contiguous run per index of the leading axes that the run does not cover.
 */
export function copyBox(x: Heap, shape: readonly number[], begin: readonly number[], size: readonly number[], out: Heap): void {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let st = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = st;
    st *= shape[i]!;
  }
  // The run: the innermost axes taken whole, plus the first partial axis above them.
  let a = rank - 1;
  while (a > 0 && begin[a] === 0 && size[a] === shape[a]) a--;
  const run = size[a]! * strides[a]!;
  const idx = new Array<number>(a).fill(0);
  let at = 0;
  for (;;) {
    let from = begin[a]! * strides[a]!;
    for (let i = 0; i < a; i++) from += (begin[i]! + idx[i]!) * strides[i]!;
    out.set(x.subarray(from, from + run) as never, at);
    at += run;
    let i = a - 1;
    while (i >= 0 && ++idx[i]! === size[i]) idx[i--] = 0;
    if (i < 0) break;
  }
}

/** Slice of a numeric tensor, read through a view of the heap (made after the output, which may grow the heap). */
function sliceFromHeap(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (size.every((d) => d > 0)) copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

let registered = false;

/** Replaces wasm's Identity, Slice, Unpack and SplitV (once per process; string tensors keep wasm's own kernels). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  replace('Identity', (own) => (args) => ((args.inputs.x as TensorInfo).dtype === 'string' ? own(args) : sharedIdentity(args)));
  replace('Slice', (own) => (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return own(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as never, args.attrs!.begin as number[], args.attrs!.size as number[]) as [number[], number[]];
    return sliceFromHeap(args.backend as unknown as WasmBackend, x, begin, size);
  });
  replace('Unpack', (own) => (args) => {
    const value = args.inputs.value as TensorInfo;
    if (value.dtype === 'string') return own(args);
    const rank = value.shape.length;
    const axis = (((args.attrs!.axis as number) % rank) + rank) % rank;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(rank).fill(0);
    const size = [...value.shape];
    size[axis] = 1;
    return Array.from({ length: value.shape[axis]! }, (_, i) => {
      begin[axis] = i;
      const out = sliceFromHeap(args.backend as unknown as WasmBackend, value, begin, size);
      return { dataId: out.dataId, dtype: out.dtype, shape: outShape };
    });
  });
  replace('SplitV', (own) => (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return own(args);
    const axis = tf.util.parseAxisParam(args.attrs!.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as never, args.attrs!.numOrSizeSplits as number[] | number, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const out = sliceFromHeap(args.backend as unknown as WasmBackend, x, begin, size);
      begin[axis]! += s;
      return out;
    });
  });
}

function replace(name: string, make: (own: KernelFunc) => KernelFunc): void {
  const own = tf.getKernel(name, 'wasm');
  if (!own) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(own.kernelFunc) });
}
