/**
 * The WebGPU backend for Node: `@tensorflow/tfjs-backend-webgpu` on Dawn's
 * Node binding (the `webgpu` npm package, prebuilt for linux-x64 and others
 * inside the package). Dawn needs a Vulkan loader (`libvulkan.so.1`) and a GPU
 * driver on Linux. Both packages are optional dependencies, imported only
 * when this backend is asked for or `auto` probes it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

export interface WebgpuProbe {
  ok: boolean;
  /** One line: the adapter found, or what is missing. */
  detail: string;
}

const LOADER = 'libvulkan.so.1';

/** Where the dynamic linker would find the Vulkan loader, or null. */
export function findVulkanLoader(): string | null {
  if (process.platform !== 'linux') return 'not needed on ' + process.platform;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/lib/x86_64-linux-gnu',
    '/usr/lib/x86_64-linux-gnu',
    '/lib/aarch64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib64',
    '/lib',
    '/usr/local/lib',
  ];
  for (const d of dirs) if (existsSync(`${d}/${LOADER}`)) return `${d}/${LOADER}`;
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => l.includes(LOADER));
    if (line) return line.split('=>').pop()!.trim();
  } catch {
    // no ldconfig: the directories above were the answer
  }
  return null;
}

/** The NVIDIA driver's EGL library: its Vulkan entry points work without a display. */
const NVIDIA_EGL = 'libEGL_nvidia.so.0';

/** Where a library of the dynamic linker's search path is, or null. */
function findLibrary(name: string, extraDirs: readonly string[] = []): string | null {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...extraDirs,
    '/usr/lib/x86_64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
  ];
  for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => l.includes(name));
    if (line) return line.split('=>').pop()!.trim();
  } catch {
    // no ldconfig: the directories above were the answer
  }
  return null;
}

/** The system's NVIDIA Vulkan manifests (their api_version is reused). */
const SYSTEM_ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

function systemApiVersion(): string {
  for (const d of SYSTEM_ICD_DIRS) {
    const f = join(d, 'nvidia_icd.json');
    try {
      const v = (JSON.parse(readFileSync(f, 'utf8')) as { ICD?: { api_version?: unknown } }).ICD?.api_version;
      if (typeof v === 'string' && /^\d+\.\d+\.\d+$/.test(v)) return v;
    } catch {
      // absent or unreadable: try the next
    }
  }
  return '1.3.0';
}

/**
 * On a headless NVIDIA machine the driver's own Vulkan manifest often names
 * libGLX_nvidia.so.0, whose Vulkan entry points need an X display: the
 * loader then answers VK_ERROR_INCOMPATIBLE_DRIVER and Dawn finds no adapter.
 * The same driver's EGL library works headless. This writes a manifest naming
 * it (in the user's cache folder) and returns its path, or null where there
 * is no such library or the user chose their own manifests.
 */
export function headlessNvidiaManifest(): string | null {
  if (process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES) return null;
  const lib = findLibrary(NVIDIA_EGL, ['/usr/local/nvidia/lib64', '/usr/local/nvidia/lib', '/usr/lib/nvidia']);
  if (!lib) return null;
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'optevo', 'vulkan');
  const file = join(dir, 'nvidia_egl_icd.json');
  const text = JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib, api_version: systemApiVersion() } }, null, 2) + '\n';
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return file;
}

let loaded: Promise<WebgpuProbe> | undefined;

/** A variable specifier keeps TypeScript and bundlers from requiring the optional package. */
let loadBackendModule: () => Promise<unknown> = () => {
  const spec: string = '@tensorflow/tfjs-backend-webgpu';
  return import(spec);
};

/**
 * For bundles (the device check): pass `() => import('@tensorflow/tfjs-backend-webgpu')`
 * from the bundle's entry so that the bundler includes the backend. It is
 * called only after `navigator.gpu` exists, which the backend reads when it loads.
 */
export function setWebgpuBackendLoader(load: () => Promise<unknown>): void {
  loadBackendModule = load;
}

/**
 * Makes `navigator.gpu` exist (Dawn), checks that an adapter is there, and
 * registers tfjs's webgpu backend. Idempotent. Never throws: a missing piece
 * is reported in `detail`.
 */
export function loadWebgpu(): Promise<WebgpuProbe> {
  return (loaded ??= probe());
}

async function probe(): Promise<WebgpuProbe> {
  // Checked first: without it Dawn prints a warning of its own and finds nothing.
  if (findVulkanLoader() === null)
    return { ok: false, detail: `webgpu: ${LOADER} not found (install a Vulkan loader, e.g. Debian's libvulkan1, and a GPU driver)` };
  let dawn: Dawn;
  try {
    const spec: string = 'webgpu';
    dawn = (await import(spec)) as Dawn;
    Object.assign(globalThis, dawn.globals);
  } catch (e) {
    return { ok: false, detail: `webgpu: the 'webgpu' package did not load: ${firstLine(e)}` };
  }
  let found = await requestAdapter(dawn);
  let via = '';
  if (!found.adapter && isMainThread) {
    // The environment is the process's: a worker thread's process.env is a copy the loader never sees,
    // so this retry happens in the main thread (loadWebgpu there before workers start; see prepareWorkersBackend).
    const manifest = headlessNvidiaManifest();
    if (manifest) {
      process.env.VK_DRIVER_FILES = manifest;
      const again = await requestAdapter(dawn);
      if (again.adapter) {
        found = again;
        via = `, through ${manifest} naming ${NVIDIA_EGL}: the system's Vulkan manifests gave no adapter (${found.error ?? 'none'})`;
      } else {
        delete process.env.VK_DRIVER_FILES;
        found.error = `${found.error ?? 'no adapter'}; retried with ${NVIDIA_EGL} (${manifest}): ${again.error ?? 'no adapter'}`;
      }
    }
  }
  const { gpu, adapter } = found;
  if (!adapter) return { ok: false, detail: `webgpu: no GPU adapter (${found.error ?? 'the Vulkan loader is there; is a GPU driver with graphics capability installed?'})` };
  // tfjs-backend-webgpu looks for navigator.gpu, which Node 20 lacks.
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  try {
    await loadBackendModule();
  } catch (e) {
    return { ok: false, detail: `webgpu: @tensorflow/tfjs-backend-webgpu did not load: ${firstLine(e)}` };
  }
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'an adapter';
  return { ok: true, detail: `webgpu: @tensorflow/tfjs-backend-webgpu on Dawn (${name}${via})` };
}

interface Adapter {
  info?: { vendor?: string; architecture?: string; description?: string };
}
interface Gpu {
  requestAdapter(): Promise<Adapter | null>;
}
interface Dawn {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

/** A fresh Dawn instance (it reads the Vulkan environment when created) and its adapter, or why there is none. */
async function requestAdapter(dawn: Dawn): Promise<{ gpu: Gpu | null; adapter: Adapter | null; error?: string }> {
  try {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter();
    return adapter ? { gpu, adapter } : { gpu, adapter: null };
  } catch (e) {
    return { gpu: null, adapter: null, error: firstLine(e) };
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
