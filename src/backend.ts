/**
 * Backend selection. `auto` takes `tensorflow` (tfjs-node-gpu, then
 * tfjs-node) where one is installed and loads, else `webgpu` where Dawn finds
 * a GPU adapter (src/webgpu.ts), else `wasm`, else `cpu`, and
 * says which it took and why. tfjs-node(-gpu) are optional: they are loaded
 * with a dynamic import inside try/catch and never required.
 *
 * The wasm backend lacks some kernels that training needs (the gradient of
 * conv2d's filter, of depthwise convolutions and of gather); they are
 * registered here for wasm by delegating to the cpu backend: inputs are
 * copied to cpu, the cpu kernel runs, the outputs are copied back.
 *
 * `initBackend` is idempotent: a worker calls it once; later calls with the
 * same request return the first answer.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { loadWebgpu } from './webgpu.js';
import { registerWasmKernels } from './wasm-kernels.js';

export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendInfo {
  /** What was asked for. */
  requested: BackendName;
  /** What runs: 'tensorflow' (libtensorflow through tfjs-node or tfjs-node-gpu), 'webgpu' (Dawn), 'wasm' or 'cpu'. */
  name: Exclude<BackendName, 'auto'>;
  /** tfjs's own backend name ('tensorflow', 'wasm', 'cpu'). */
  tfBackend: string;
  /** One line: which package, and why the ones before it were passed over. */
  detail: string;
  tf: typeof tf;
}

/** Kernels wasm lacks that training uses, delegated to cpu. */
export const WASM_DELEGATED_KERNELS = [
  'Conv2DBackpropFilter',
  'UnsortedSegmentSum',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

const pending = new Map<BackendName, Promise<BackendInfo>>();

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

/**
 * What must happen in the main thread before worker threads start a backend:
 * for webgpu (and auto, which may take it), finding the GPU can mean pointing
 * the Vulkan loader at another driver manifest (src/webgpu.ts), and only the
 * main thread can change the environment the loader reads.
 */
export async function prepareWorkersBackend(name: BackendName): Promise<void> {
  if (name === 'webgpu' || name === 'auto') await loadWebgpu();
}

/** Initialises tfjs on a backend, once per process (or worker thread). */
export function initBackend(name: BackendName = 'auto'): Promise<BackendInfo> {
  let p = pending.get(name);
  if (!p) {
    p = select(name);
    pending.set(name, p);
    p.catch(() => pending.delete(name));
  }
  return p;
}

/**
 * Makes every synchronous tensor read (`dataSync`, `arraySync`, `bufferSync`)
 * throw. Training and evaluation read only with `await data()`: on a GPU a
 * synchronous read stalls the pipeline, and tfjs-backend-webgpu cannot do one
 * in Node at all. Tests turn this on to prove it, in worker threads too, with
 * OPTEVO_NO_SYNC_READS=1 (read when a backend starts).
 */
export function forbidSyncReads(): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  for (const name of ['dataSync', 'arraySync', 'bufferSync']) {
    proto[name] = function refused(): never {
      throw new Error(`synchronous tensor read (${name}) refused: read with await data()`);
    };
  }
}

/**
 * tfjs flags from OPTEVO_TF_FLAGS, a JSON object such as
 * `{"WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE": 64}`: for tuning a backend on a
 * machine (they apply in worker threads too). A flag tfjs does not know is
 * an error, as is anything but a JSON object of numbers, booleans and strings.
 */
export function applyFlags(json: string | undefined): void {
  if (json === undefined || json.trim() === '') return;
  let flags: unknown;
  try {
    flags = JSON.parse(json);
  } catch {
    throw new Error(`OPTEVO_TF_FLAGS: not JSON: ${json.slice(0, 80)}`);
  }
  if (flags === null || typeof flags !== 'object' || Array.isArray(flags)) throw new Error('OPTEVO_TF_FLAGS: expected a JSON object of tfjs flags');
  const known = tf.env().getFlags();
  const registry = (tf.env() as unknown as { flagRegistry: Record<string, unknown> }).flagRegistry;
  for (const [k, v] of Object.entries(flags)) {
    if (!(k in known) && !(k in registry)) throw new Error(`OPTEVO_TF_FLAGS: tfjs has no flag '${k}'`);
    if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string') throw new Error(`OPTEVO_TF_FLAGS: '${k}' must be a number, boolean or string`);
    tf.env().set(k, v as never);
  }
}

async function select(requested: BackendName): Promise<BackendInfo> {
  tf.env().set('PROD', true);
  if (process.env.OPTEVO_NO_SYNC_READS === '1') forbidSyncReads();
  const skipped: string[] = [];
  const done = async (name: Exclude<BackendName, 'auto'>, detail: string): Promise<BackendInfo> => {
    const tfBackend = name === 'tensorflow' ? 'tensorflow' : name;
    if (!(await tf.setBackend(tfBackend))) throw new Error(`tfjs could not start the ${tfBackend} backend`);
    await tf.ready();
    applyFlags(process.env.OPTEVO_TF_FLAGS);
    const why = skipped.length ? ` (${skipped.join('; ')})` : '';
    return { requested, name, tfBackend, detail: detail + why, tf };
  };
  switch (requested) {
    case 'tensorflow': {
      const r = await loadNode(skipped);
      if (!r) throw new Error(`the tensorflow backend is not available: ${skipped.join('; ')}`);
      return done('tensorflow', r);
    }
    case 'webgpu': {
      const r = await loadWebgpu();
      if (!r.ok) throw new Error(`the webgpu backend is not available: ${r.detail}`);
      return done('webgpu', r.detail);
    }
    case 'wasm': {
      const r = await loadWasm();
      if (r !== true) throw new Error(`the wasm backend is not available: ${r}`);
      return done('wasm', 'wasm: @tensorflow/tfjs-backend-wasm');
    }
    case 'cpu':
      return done('cpu', 'cpu: the pure JavaScript backend of @tensorflow/tfjs');
    case 'auto': {
      const node = await loadNode(skipped);
      if (node) return done('tensorflow', node);
      const gpu = await loadWebgpu();
      if (gpu.ok) return done('webgpu', gpu.detail);
      skipped.push(gpu.detail);
      const w = await loadWasm();
      if (w === true) return done('wasm', 'wasm: @tensorflow/tfjs-backend-wasm');
      skipped.push(`wasm: ${w}`);
      return done('cpu', 'cpu: the pure JavaScript backend of @tensorflow/tfjs');
    }
    default: {
      const never: never = requested;
      throw new Error(`unknown backend ${String(never)}`);
    }
  }
}

/** tfjs-node-gpu, then tfjs-node; the package that loaded, or null with reasons pushed to `skipped`. */
async function loadNode(skipped: string[]): Promise<string | null> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
      const spec: string = pkg;
      await import(spec);
      if (tf.findBackendFactory('tensorflow')) return `tensorflow: ${pkg}`;
      skipped.push(`${pkg} loaded but registered no tensorflow backend`);
    } catch (e) {
      const msg = String((e as Error)?.message ?? e).split('\n')[0]!;
      const code = (e as { code?: string }).code;
      skipped.push(code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(msg) ? `${pkg} not installed` : `${pkg} failed to load: ${msg}`);
    }
  }
  return null;
}

async function loadWasm(): Promise<true | string> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!tf.findBackendFactory('wasm')) return 'the package registered no backend';
    registerWasmFallbacks();
    registerWasmKernels();
    return true;
  } catch (e) {
    return String((e as Error)?.message ?? e).split('\n')[0]!;
  }
}

let fallbacksRegistered = false;

/** Registers, for wasm, each kernel in WASM_DELEGATED_KERNELS that wasm lacks, as a call to the cpu kernel. */
export function registerWasmFallbacks(): string[] {
  const added: string[] = [];
  if (fallbacksRegistered) return added;
  fallbacksRegistered = true;
  for (const kernelName of WASM_DELEGATED_KERNELS) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpuKernel) continue;
    const config: KernelConfig = { kernelName, backendName: 'wasm', kernelFunc: delegateToCpu(cpuKernel.kernelFunc) };
    tf.registerKernel(config);
    added.push(kernelName);
  }
  return added;
}

interface DataBackend {
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  write(values: ArrayLike<number>, shape: number[], dtype: string): object;
  disposeData(dataId: object, force?: boolean): boolean;
}

function delegateToCpu(cpuKernel: KernelFunc): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as unknown as DataBackend;
    const cpu = tf.engine().findBackend('cpu') as unknown as DataBackend & { makeTensorInfo(shape: number[], dtype: string, values: ArrayLike<number>): TensorInfo };
    if (!cpu) throw new Error('the cpu backend is not available for a wasm fallback kernel');
    const cpuInputs: Record<string, TensorInfo> = {};
    const made: TensorInfo[] = [];
    for (const [k, t] of Object.entries(inputs)) {
      if (!t) continue;
      const info = cpu.makeTensorInfo([...t.shape], t.dtype, wasm.readSync(t.dataId) as ArrayLike<number>);
      cpuInputs[k] = info;
      made.push(info);
    }
    const out = cpuKernel({ inputs: cpuInputs, attrs: attrs as NamedAttrMap, backend: cpu as never });
    const outs = Array.isArray(out) ? out : [out];
    const results = outs.map((o) => {
      const values = cpu.readSync(o.dataId) as ArrayLike<number>;
      const dataId = wasm.write(values, [...o.shape], o.dtype);
      cpu.disposeData(o.dataId, true);
      return { dataId, shape: [...o.shape], dtype: o.dtype } as TensorInfo;
    });
    for (const m of made) cpu.disposeData(m.dataId, true);
    return Array.isArray(out) ? results : results[0]!;
  };
}
