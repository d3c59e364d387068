/**
 * Training and evaluation never read a tensor synchronously (a synchronous
 * read stalls a GPU pipeline every step, and tfjs-backend-webgpu cannot do
 * one in Node). Here every synchronous read throws, in this process and, by
 * OPTEVO_NO_SYNC_READS=1, in the workers of a real search; then every proxy
 * task trains and a short search runs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidSyncReads, initBackend } from '../../src/backend.js';
import { evaluate } from '../../src/evaluate.js';
import { BUILTIN_TASKS } from '../../src/tasks/registry.js';
import { seedSource } from '../../seeds/index.js';

const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-nosync-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('no synchronous reads in training or evaluation', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    forbidSyncReads();
  });

  it('refuses a synchronous read once forbidden', () => {
    const t = tf.scalar(1);
    expect(() => t.dataSync()).toThrow(/synchronous tensor read \(dataSync\) refused/);
    expect(() => t.arraySync()).toThrow(/arraySync/);
    t.dispose();
  });

  it.each(BUILTIN_TASKS.map((t) => [t.name]))('%s trains at every rate of a short sweep', async (name) => {
    const e = await evaluate(seedSource('adamw'), { tasks: [name], steps: 20, lrs: [1e-3, 1e-2], backend: 'wasm', reference: false });
    const task = e.tasks[0]!;
    expect(task.failure).toBeUndefined();
    for (const r of task.runs) {
      expect(r.failure).toBeUndefined();
      expect(Number.isFinite(r.loss)).toBe(true);
    }
  });

  it('a short search trains programs in workers that refuse synchronous reads', () => {
    const out = spawnSync(
      process.execPath,
      [CLI, 'search', '--suite', 'quick', '--budget', '8', '--batch', '4', '--workers', '1', '--steps', '10', '--lrs', '0.001,0.01', '--seed', '3', '--metaval-every', '0', '--no-tui', '--run-dir', dir, '--name', 'r'],
      { encoding: 'utf8', timeout: 240_000, env: { ...process.env, OPTEVO_NO_SYNC_READS: '1' } },
    );
    expect(out.status, out.stderr).toBe(0);
    const show = spawnSync(process.execPath, [CLI, 'export', path.join(dir, 'r'), '--format', 'jsonl'], { encoding: 'utf8', timeout: 60_000 });
    expect(show.status, show.stderr).toBe(0);
    const children = show.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; failure: string | null });
    expect(children.length).toBe(8);
    expect(children.filter((c) => c.status === 'ok' || c.status === 'pruned').length).toBeGreaterThan(0);
    for (const c of children) expect(c.failure ?? '').not.toMatch(/synchronous tensor read/);
  }, 300_000);
});
