import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir, diskCached, readCache, writeCache } from '../../src/data/disk-cache.js';
import { taskDataset, whitenedDataset } from '../../src/data/setup-cache.js';
import { builtinTask } from '../../src/tasks/registry.js';
import type { TfTask } from '../../src/tasks/types.js';

let dir: string;
const saved = { dir: process.env.OPTEVO_CACHE_DIR, off: process.env.OPTEVO_CACHE };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'optevo-cache-'));
  process.env.OPTEVO_CACHE_DIR = dir;
  delete process.env.OPTEVO_CACHE;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (saved.dir === undefined) delete process.env.OPTEVO_CACHE_DIR;
  else process.env.OPTEVO_CACHE_DIR = saved.dir;
  if (saved.off !== undefined) process.env.OPTEVO_CACHE = saved.off;
});

describe('disk cache', () => {
  it('round-trips typed arrays and metadata, and leaves no temporary files', () => {
    const a = Float32Array.from([1.5, -2, 3]);
    const b = Int32Array.from([7, 8]);
    const c = Float64Array.from([Math.PI]);
    writeCache('k1', { hello: 'world' }, [a, b, c]);
    const r = readCache('k1')!;
    expect(r.meta).toEqual({ hello: 'world' });
    expect(r.arrays[0]).toEqual(a);
    expect(r.arrays[1]).toEqual(b);
    expect(r.arrays[2]).toEqual(c);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('misses on an unknown key and on a damaged file, and then computes', () => {
    expect(readCache('never written')).toBeNull();
    writeCache('k2', null, [Float32Array.from([1])]);
    for (const f of readdirSync(dir)) writeFileSync(join(dir, f), 'garbage');
    expect(readCache('k2')).toBeNull();
    let made = 0;
    const make = () => {
      made++;
      return Float32Array.from([4, 5]);
    };
    const enc = (v: Float32Array) => ({ meta: 1, arrays: [v] });
    const dec = (_m: unknown, arrs: unknown[]) => arrs[0] as Float32Array;
    expect(diskCached('k3', make, enc, dec)).toEqual(Float32Array.from([4, 5]));
    expect(diskCached('k3', make, enc, dec)).toEqual(Float32Array.from([4, 5]));
    expect(made).toBe(1);
  });

  it('is off with OPTEVO_CACHE=off', () => {
    process.env.OPTEVO_CACHE = 'off';
    try {
      expect(cacheDir()).toBeNull();
      writeCache('k4', null, [Float32Array.from([1])]);
      expect(readCache('k4')).toBeNull();
    } finally {
      delete process.env.OPTEVO_CACHE;
    }
  });
});

describe('task set-up cache', () => {
  it('gives the dataset and whitening the task makes', () => {
    const task = builtinTask('mnist8-mlp') as TfTask;
    const made = task.data(3);
    const first = taskDataset(task, 3);
    expect(first.train.x).toEqual(made.train.x);
    expect(first.val.y).toEqual(made.val.y);
    expect(taskDataset(task, 3)).toBe(first);
    const w = whitenedDataset(task, first, 3);
    expect(w.note).toBe('inputs PCA-whitened');
    // Whitened inputs are centred.
    const d = 64;
    const n = w.ds.train.n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += w.ds.train.x[i * d]!;
    expect(Math.abs(mean / n)).toBeLessThan(1e-3);
  });

  it('stores a dataset that is slow to make on disk, where another process finds it', () => {
    const base = builtinTask('teacher-student') as TfTask;
    let calls = 0;
    const slow = {
      ...base,
      name: 'slow-data',
      dataKey: 'slow-data:v1',
      data: (seed: number) => {
        calls++;
        const t0 = performance.now();
        while (performance.now() - t0 < 120); // slower than the cache's threshold
        return base.data(seed);
      },
    } as TfTask;
    const a = taskDataset(slow, 5);
    expect(calls).toBe(1);
    const onDisk = readCache(`dataset\0slow-data:v1\0${5}`)!;
    expect(onDisk).not.toBeNull();
    expect(onDisk.arrays[0]).toEqual(a.train.x);
    expect(onDisk.arrays[3]).toEqual(a.val.y);
    expect(onDisk.meta).toMatchObject({ xShape: a.xShape, yShape: a.yShape, yKind: 'real', nTrain: a.train.n, nVal: a.val.n });
  });

  it('keeps a task without a dataKey in memory only', () => {
    const base = builtinTask('teacher-student') as TfTask;
    const { dataKey: _k, ...rest } = base;
    const task = { ...rest, name: 'custom-ts' } as TfTask;
    const before = readdirSync(dir).length;
    const a = taskDataset(task, 0);
    expect(taskDataset(task, 0)).toBe(a);
    expect(readdirSync(dir).length).toBe(before);
    expect(existsSync(dir)).toBe(true);
  });
});
