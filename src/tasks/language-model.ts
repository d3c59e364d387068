/**
 * A small language model on a seeded synthetic language (a second-order
 * Markov chain with few choices per context): token embeddings of the last
 * `context` tokens, concatenated, a tanh hidden layer and a softmax over the
 * vocabulary. The embedding is a matmul with one-hot rows (layers.embed):
 * the gradient of a gather is UnsortedSegmentSum, which wasm lacks (the
 * backend delegates it to cpu, slowly).
 */
import type { Dataset } from '../data/dataset.js';
import { makeLanguage, sample, windows } from '../data/language.js';
import { activate, dense, embed } from '../train/layers.js';
import type { SuiteName, Tensor, TfTask } from './types.js';
import { CONSTANT, DIVERGENCE, GLOROT } from './defaults.js';

export interface LanguageModelConfig {
  name: string;
  suite: SuiteName;
  vocab: number;
  branching: number;
  context: number;
  embedding: number;
  hidden: number;
  nTrain: number;
  nVal: number;
  steps: number;
  batchSize: number;
}

const datasets = new Map<string, Dataset>();

export function languageModelTask(c: LanguageModelConfig): TfTask {
  const cd = c.context * c.embedding;
  return {
    kind: 'tf',
    name: c.name,
    suite: c.suite,
    description: `language model: embed ${c.vocab}x${c.embedding}, context ${c.context}, tanh ${c.hidden}, softmax ${c.vocab}`,
    source: `synthetic language (seeded): vocabulary ${c.vocab}, ${c.branching} choices per context`,
    steps: c.steps,
    batchSize: c.batchSize,
    batching: 'mini',
    schedule: CONSTANT,
    metricName: 'accuracy',
    lossFloor: 0,
    divergence: DIVERGENCE,
    whiten: false,
    noWhitening: 'inputs are token ids',
    data: (seed) => {
      const key = `${c.name}:${seed}`;
      let ds = datasets.get(key);
      if (!ds) {
        const lang = makeLanguage(`${c.name}\0${seed}`, c.vocab, c.branching);
        const tr = windows(sample(lang, c.nTrain + c.context, `${c.name}\0${seed}\0train`), c.context);
        const va = windows(sample(lang, c.nVal + c.context, `${c.name}\0${seed}\0val`), c.context);
        ds = { xShape: [c.context], yShape: [], yKind: 'class', classes: c.vocab, train: tr, val: va, source: 'synthetic language' };
        datasets.set(key, ds);
      }
      return ds;
    },
    dataKey: `language:${JSON.stringify([c.name, c.vocab, c.branching, c.context, c.nTrain, c.nVal])}`,
    model: {
      params: [
        { name: 'embed', shape: [c.vocab, c.embedding], init: { kind: 'normal', value: 0.5 } },
        { name: 'w1', shape: [cd, c.hidden], init: GLOROT },
        { name: 'b1', shape: [c.hidden], init: { kind: 'zeros' } },
        { name: 'w2', shape: [c.hidden, c.vocab], init: GLOROT },
        { name: 'b2', shape: [c.vocab], init: { kind: 'zeros' } },
      ],
      batchable: true,
      forward: (tf, ps, x, K) => {
        const [e, w1, b1, w2, b2] = ps as [Tensor, Tensor, Tensor, Tensor, Tensor];
        const B = x.shape[0];
        const tokens = tf.reshape(tf.cast(x, 'int32'), [B * c.context]);
        const looked = embed(tf, tokens, e, K);
        const emb =
          K === null
            ? tf.reshape(looked, [B, cd])
            : tf.reshape(tf.transpose(tf.reshape(looked, [B, c.context, K, c.embedding]), [2, 0, 1, 3]), [K, B, cd]);
        const h = activate(tf, dense(tf, emb, w1, b1, K), 'tanh');
        return dense(tf, h, w2, b2, K);
      },
    },
    loss: 'cross-entropy',
    metric: 'accuracy',
  };
}
