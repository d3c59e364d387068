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
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface RefCounting {
  incRef(dataId: object): void;
}

const sharedIdentity: KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as TensorInfo;
  (backend as unknown as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

let registered = false;

/** Replaces wasm's Identity with one that shares the data (once per process; strings keep the copying kernel). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  const own = tf.getKernel('Identity', 'wasm');
  if (!own) return;
  const copy = own.kernelFunc;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => ((args.inputs.x as TensorInfo).dtype === 'string' ? copy(args) : sharedIdentity(args)),
  });
}
