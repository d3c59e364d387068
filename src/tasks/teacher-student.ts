/**
 * Teacher-student regression: a student MLP learns a random tanh teacher
 * from correlated, badly scaled inputs (mean squared error). With `whiten`,
 * inputs are PCA-whitened first.
 */
import { type Dataset, split } from '../data/dataset.js';
import { rng } from '../data/rng.js';
import { teacherStudent } from '../data/teacher.js';
import { mlpForward, mlpParams } from '../train/layers.js';
import type { SuiteName, TfTask } from './types.js';
import { CONSTANT, DIVERGENCE, GLOROT } from './defaults.js';

export interface TeacherStudentConfig {
  name: string;
  suite: SuiteName;
  inputs: number;
  teacherHidden: number;
  studentHidden: number;
  outputs: number;
  condition: number;
  nTrain: number;
  nVal: number;
  steps: number;
  batchSize: number;
  whiten?: boolean;
}

const datasets = new Map<string, Dataset>();

export function teacherStudentTask(c: TeacherStudentConfig): TfTask {
  const widths = [c.inputs, c.studentHidden, c.outputs];
  return {
    kind: 'tf',
    name: c.name,
    suite: c.suite,
    description: `teacher-student regression: student MLP ${widths.join('-')} (tanh), teacher ${c.inputs}-${c.teacherHidden}-${c.outputs}, input condition ${c.condition}`,
    source: `synthetic (seeded): ${c.nTrain} + ${c.nVal} examples`,
    steps: c.steps,
    batchSize: c.batchSize,
    batching: 'mini',
    schedule: CONSTANT,
    metricName: 'loss',
    lossFloor: 1e-4,
    divergence: DIVERGENCE,
    whiten: c.whiten ?? false,
    data: (seed) => {
      const key = `${c.name}:${seed}`;
      let ds = datasets.get(key);
      if (!ds) {
        const d = teacherStudent(`${c.name}\0${seed}`, {
          n: c.nTrain + c.nVal,
          inputs: c.inputs,
          hidden: c.teacherHidden,
          outputs: c.outputs,
          condition: c.condition,
          noise: 0.01,
        });
        const s = split(d.x, d.y, c.inputs, c.outputs, c.nTrain, c.nVal, rng(c.name, seed, 'split'));
        ds = { xShape: [c.inputs], yShape: [c.outputs], yKind: 'real', ...s, source: 'synthetic teacher' };
        datasets.set(key, ds);
      }
      return ds;
    },
    dataKey: `teacher-student:${JSON.stringify([c.name, c.inputs, c.teacherHidden, c.outputs, c.condition, c.nTrain, c.nVal])}`,
    model: {
      params: mlpParams(widths, GLOROT),
      batchable: true,
      forward: (tf, ps, x, K) => mlpForward(tf, ps, x, K, 'tanh'),
    },
    loss: 'mse',
    metric: 'loss',
  };
}
