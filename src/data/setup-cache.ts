/**
 * Set-up once: a task's dataset and its PCA whitening are made once per
 * process (worker thread) and, for tasks that name their data (`dataKey`),
 * once per machine, through the disk cache (src/data/disk-cache.ts), keyed
 * by task data and seed, where making them is slow (see MIN_MAKE_MS). Tasks without a `dataKey` (custom tasks) are cached
 * in memory only.
 */
import type { TfTask } from '../tasks/types.js';
import type { Dataset, Split } from './dataset.js';
import { type CachedArray, diskCached } from './disk-cache.js';
import { MAX_WHITEN_WIDTH, applyWhitening, fitWhitening } from './whiten.js';

/**
 * Datasets and whitenings that take less than this to make are not written
 * to disk: searches draw a new data seed per run, and a 28x28 MNIST split
 * (30 MB) is made from the cached digits in about 50 ms.
 */
const MIN_MAKE_MS = 100;

const datasets = new Map<string, Dataset>();
const byTask = new WeakMap<TfTask, Map<number, Dataset>>();
const whitened = new WeakMap<Dataset, Dataset>();

interface DatasetMeta {
  xShape: number[];
  yShape: number[];
  yKind: 'class' | 'real';
  classes?: number;
  source: string;
  nTrain: number;
  nVal: number;
}

function encode(ds: Dataset): { meta: DatasetMeta; arrays: CachedArray[] } {
  return {
    meta: { xShape: ds.xShape, yShape: ds.yShape, yKind: ds.yKind, ...(ds.classes !== undefined ? { classes: ds.classes } : {}), source: ds.source, nTrain: ds.train.n, nVal: ds.val.n },
    arrays: [ds.train.x, ds.train.y, ds.val.x, ds.val.y],
  };
}

function decode(m: unknown, arrays: CachedArray[]): Dataset {
  const meta = m as DatasetMeta;
  const [tx, ty, vx, vy] = arrays;
  const split = (x: CachedArray | undefined, y: CachedArray | undefined, n: number): Split => {
    if (!(x instanceof Float32Array) || !(y instanceof Float32Array || y instanceof Int32Array)) throw new Error('damaged');
    return { x, y, n };
  };
  return {
    xShape: meta.xShape,
    yShape: meta.yShape,
    yKind: meta.yKind,
    ...(meta.classes !== undefined ? { classes: meta.classes } : {}),
    train: split(tx, ty, meta.nTrain),
    val: split(vx, vy, meta.nVal),
    source: meta.source,
  };
}

/** The task's dataset for a seed: from memory, else disk, else made (and stored). */
export function taskDataset(task: TfTask, seed: number): Dataset {
  if (!task.dataKey) {
    let m = byTask.get(task);
    if (!m) byTask.set(task, (m = new Map()));
    let ds = m.get(seed);
    if (!ds) m.set(seed, (ds = task.data(seed)));
    return ds;
  }
  const key = `dataset\0${task.dataKey}\0${seed}`;
  let ds = datasets.get(key);
  if (!ds) {
    ds = diskCached(key, () => task.data(seed), encode, decode, MIN_MAKE_MS);
    datasets.set(key, ds);
  }
  return ds;
}

/**
 * The dataset with PCA-whitened inputs (fitted on the training split), or why
 * it stays as it is.
 */
export function whitenedDataset(task: TfTask, ds: Dataset, seed: number): { ds: Dataset; note?: string } {
  if (task.noWhitening) return { ds, note: `not whitened: ${task.noWhitening}` };
  const d = ds.xShape.reduce((a, b) => a * b, 1);
  if (d > MAX_WHITEN_WIDTH) return { ds, note: `not whitened: ${d} inputs, more than ${MAX_WHITEN_WIDTH}` };
  let w = whitened.get(ds);
  if (!w) {
    const make = (): Dataset => {
      const fit = fitWhitening(ds.train.x, d);
      return { ...ds, train: { ...ds.train, x: applyWhitening(fit, ds.train.x) }, val: { ...ds.val, x: applyWhitening(fit, ds.val.x) }, source: `${ds.source}, PCA-whitened` };
    };
    w = task.dataKey ? diskCached(`whitened\0${task.dataKey}\0${seed}`, make, encode, decode, MIN_MAKE_MS) : make();
    whitened.set(ds, w);
  }
  return { ds: w, note: 'inputs PCA-whitened' };
}
