/**
 * Sparse logistic regression with rare informative features (AdaGrad's
 * case): binary features from common to rare, the label driven by the rare
 * ones. Parameters: a weight per feature and a bias; loss: mean log-loss;
 * metric: accuracy. Closed-form gradient over sparse examples: an array task.
 */
import { sparseLogistic, type SparseData } from '../data/sparse.js';
import type { ArrayProblem, ArrayTask, Batching, SuiteName } from './types.js';
import { CONSTANT, DIVERGENCE } from './defaults.js';

export interface SparseLogisticConfig {
  name: string;
  suite: SuiteName;
  features: number;
  informative: number;
  nTrain: number;
  nVal: number;
  steps: number;
  batchSize: number;
  batching: Batching;
}

export function sparseLogisticTask(c: SparseLogisticConfig): ArrayTask {
  return {
    kind: 'array',
    name: c.name,
    suite: c.suite,
    description: `sparse logistic regression: ${c.features} binary features, ${c.informative} of them rare and informative`,
    source: `synthetic (seeded): ${c.nTrain} + ${c.nVal} examples`,
    steps: c.steps,
    batchSize: c.batchSize,
    batching: c.batching,
    schedule: CONSTANT,
    metricName: 'accuracy',
    lossFloor: 0,
    divergence: DIVERGENCE,
    paramCount: c.features + 1,
    setup: (seed) => sparseLogisticProblem(c, seed),
  };
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function logLoss(data: SparseData, w: Float64Array, b: number, rows: Int32Array | null, gw: Float64Array | null, gb: Float64Array | null): { loss: number; correct: number } {
  const m = rows ? rows.length : data.n;
  if (gw) gw.fill(0);
  if (gb) gb.fill(0);
  let loss = 0;
  let correct = 0;
  for (let a = 0; a < m; a++) {
    const i = rows ? rows[a]! : a;
    let z = b;
    for (let p = data.ptr[i]!; p < data.ptr[i + 1]!; p++) z += w[data.idx[p]!]!;
    const y = data.y[i]!;
    loss += softplus(z) - y * z;
    if ((z > 0 ? 1 : 0) === y) correct++;
    if (gw && gb) {
      const e = (1 / (1 + Math.exp(-z)) - y) / m;
      for (let p = data.ptr[i]!; p < data.ptr[i + 1]!; p++) gw[data.idx[p]!]! += e;
      gb[0]! += e;
    }
  }
  return { loss: loss / m, correct: correct / m };
}

export function sparseLogisticProblem(c: SparseLogisticConfig, seed: number): ArrayProblem {
  const p = sparseLogistic(`${c.name}\0${seed}`, { d: c.features, nTrain: c.nTrain, nVal: c.nVal, informative: c.informative });
  return {
    nTrain: c.nTrain,
    init: () => [new Float64Array(c.features), new Float64Array(1)],
    lossGrad: (ws, batch, gs) => logLoss(p.train, ws[0]!, ws[1]![0]!, batch, gs[0]!, gs[1]!).loss,
    validate: (ws) => {
      const r = logLoss(p.val, ws[0]!, ws[1]![0]!, null, null, null);
      return { loss: r.loss, metric: r.correct };
    },
  };
}
