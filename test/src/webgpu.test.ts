/**
 * The webgpu backend: where a GPU adapter exists, proxy-task math, the
 * batched sweep and compiled programs agree with the cpu backend to float32
 * tolerance; where none does, the test says why it is skipped, and
 * `--backend webgpu` fails with one line naming what is missing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../dsl/compile.js';
import { parse } from '../../dsl/parse.js';
import { initBackend } from '../../src/backend.js';
import { findVulkanLoader, headlessNvidiaManifest, loadWebgpu } from '../../src/webgpu.js';

const probe = await loadWebgpu();

describe('webgpu backend', () => {
  it('reports in one line why it cannot start, or that it can', () => {
    expect(probe.detail.split('\n')).toHaveLength(1);
    expect(probe.detail).toMatch(/^webgpu: /);
    if (findVulkanLoader() === null) expect(probe.detail).toContain('libvulkan.so.1 not found');
  });

  it.skipIf(probe.ok)(`--backend webgpu fails with that line where there is no adapter (${probe.detail})`, async () => {
    await expect(initBackend('webgpu')).rejects.toThrow(/^the webgpu backend is not available: webgpu: /);
  });

  it.runIf(probe.ok)('a compiled Adam step on webgpu agrees with cpu, with stacked replicas', async () => {
    const src = `def train(w, g, m, v, lr, step):\n  m = interp(g, m, 0.9)\n  v = interp(g * g, v, 0.999)\n  u = lr * m / (1 - 0.9 ** step) / (sqrt(v / (1 - 0.999 ** step)) + 1e-8) + clip(w, 0.5) * norm(g) * lr\n  return u, m, v\n`;
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const c = compile(parse(src), { tf, replicas: 3 });
      let w = tf.tensor(Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i)), [3, 8, 8]);
      let st = [[tf.zerosLike(w), tf.zerosLike(w)]];
      const lr = tf.tensor([0.001, 0.01, 0.1]);
      for (let s = 1; s <= 10; s++) {
        const o = tf.tidy(() => {
          const g = tf.add(tf.mul(w, 0.5), tf.matMul(tf.reshape(w, [3, 8, 8]), tf.reshape(w, [3, 8, 8])));
          const r = c.step([w], [g], st, lr, s);
          return { w: tf.sub(w, r.updates[0]!), st: r.states };
        });
        w = o.w;
        st = o.st;
      }
      return Array.from(await w.data());
    };
    const gpu = await run('webgpu');
    const cpu = await run('cpu');
    gpu.forEach((x, i) => expect(Math.abs(x - cpu[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(cpu[i]!))));
  });
});

describe('a headless NVIDIA machine', () => {
  const saved = { ...process.env };
  const restore = () => {
    for (const k of ['LD_LIBRARY_PATH', 'XDG_CACHE_HOME', 'VK_DRIVER_FILES', 'VK_ICD_FILENAMES']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };

  it('gets a Vulkan manifest naming the EGL driver library, in the cache folder', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-egl-'));
    try {
      fs.mkdirSync(path.join(root, 'lib'));
      fs.writeFileSync(path.join(root, 'lib', 'libEGL_nvidia.so.0'), '');
      process.env.LD_LIBRARY_PATH = path.join(root, 'lib');
      process.env.XDG_CACHE_HOME = path.join(root, 'cache');
      delete process.env.VK_DRIVER_FILES;
      delete process.env.VK_ICD_FILENAMES;
      const file = headlessNvidiaManifest();
      expect(file).toBe(path.join(root, 'cache', 'optevo', 'vulkan', 'nvidia_egl_icd.json'));
      const m = JSON.parse(fs.readFileSync(file!, 'utf8')) as { file_format_version: string; ICD: { library_path: string; api_version: string } };
      expect(m.file_format_version).toBe('1.0.0');
      expect(m.ICD.library_path).toBe(path.join(root, 'lib', 'libEGL_nvidia.so.0'));
      expect(m.ICD.api_version).toMatch(/^\d+\.\d+\.\d+$/);
      // A user's own manifest choice is respected.
      process.env.VK_DRIVER_FILES = '/somewhere/mine.json';
      expect(headlessNvidiaManifest()).toBeNull();
    } finally {
      restore();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('gets none where the driver has no EGL library', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-egl-'));
    try {
      process.env.LD_LIBRARY_PATH = root;
      process.env.XDG_CACHE_HOME = root;
      delete process.env.VK_DRIVER_FILES;
      delete process.env.VK_ICD_FILENAMES;
      // Only where the machine itself has no NVIDIA driver (as CI's): otherwise the real library is found.
      if (!fs.existsSync('/usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.0')) expect(headlessNvidiaManifest()).toBeNull();
    } finally {
      restore();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
