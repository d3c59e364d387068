/**
 * The WebGPU backend for Node: `@tensorflow/tfjs-backend-webgpu` on Dawn's
 * Node binding (the `webgpu` npm package, prebuilt for linux-x64 and others
 * inside the package). Dawn needs a Vulkan loader (`libvulkan.so.1`) and a GPU
 * driver on Linux. Both packages are optional dependencies, imported only
 * when this backend is asked for or `auto` probes it.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

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

let loaded: Promise<WebgpuProbe> | undefined;

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
  let gpu: { requestAdapter(): Promise<unknown> };
  try {
    const spec: string = 'webgpu';
    const mod = (await import(spec)) as { create(flags: string[]): typeof gpu; globals: Record<string, unknown> };
    Object.assign(globalThis, mod.globals);
    gpu = mod.create([]);
  } catch (e) {
    return { ok: false, detail: `webgpu: the 'webgpu' package did not load: ${firstLine(e)}` };
  }
  let adapter: { info?: { vendor?: string; architecture?: string; description?: string } } | null;
  try {
    adapter = (await gpu.requestAdapter()) as typeof adapter;
  } catch (e) {
    return { ok: false, detail: `webgpu: requesting an adapter failed: ${firstLine(e)}` };
  }
  if (!adapter) return { ok: false, detail: `webgpu: no GPU adapter (the Vulkan loader is there; is a GPU driver installed?)` };
  // tfjs-backend-webgpu looks for navigator.gpu, which Node 20 lacks.
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  try {
    const spec: string = '@tensorflow/tfjs-backend-webgpu';
    await import(spec);
  } catch (e) {
    return { ok: false, detail: `webgpu: @tensorflow/tfjs-backend-webgpu did not load: ${firstLine(e)}` };
  }
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'an adapter';
  return { ok: true, detail: `webgpu: @tensorflow/tfjs-backend-webgpu on Dawn (${name})` };
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
