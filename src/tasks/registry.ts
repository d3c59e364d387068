/**
 * The built-in tasks and their suites.
 *  - quick (the hurdle: cheap): ill-conditioned quadratic, Rosenbrock,
 *    sparse logistic regression, a tiny MLP on 8x8 MNIST;
 *  - standard: an MLP and a small CNN on MNIST, teacher-student regression,
 *    a small language model on a synthetic language;
 *  - metaval: larger versions of those (more data, width and steps), held
 *    out from selection.
 */
import { languageModelTask } from './language-model.js';
import { mnistCnnTask, mnistMlpTask } from './mnist.js';
import { quadraticTask } from './quadratic.js';
import { rosenbrockTask } from './rosenbrock.js';
import { sparseLogisticTask } from './sparse-logistic.js';
import { teacherStudentTask } from './teacher-student.js';
import type { SuiteName, Task } from './types.js';

export const SUITES: readonly SuiteName[] = ['quick', 'standard', 'metaval'];

export const BUILTIN_TASKS: readonly Task[] = [
  // quick
  quadraticTask({ name: 'quadratic', suite: 'quick', dim: 16, condition: 1000, nTrain: 256, nVal: 256, steps: 200, batchSize: 256, batching: 'full' }),
  rosenbrockTask({ name: 'rosenbrock', suite: 'quick', dim: 2, steps: 1000 }),
  sparseLogisticTask({ name: 'sparse-logistic', suite: 'quick', features: 100, informative: 80, nTrain: 2000, nVal: 1000, steps: 300, batchSize: 32, batching: 'mini' }),
  mnistMlpTask({ name: 'mnist8-mlp', suite: 'quick', side: 8, hidden: [32], activation: 'relu', nTrain: 2000, nVal: 500, steps: 150, batchSize: 32 }),
  // standard
  mnistMlpTask({ name: 'mnist-mlp', suite: 'standard', side: 28, hidden: [128], activation: 'relu', nTrain: 8000, nVal: 2000, steps: 300, batchSize: 128 }),
  mnistCnnTask({ name: 'mnist-cnn', suite: 'standard', filters: 8, kernel: 5, hidden: 0, nTrain: 8000, nVal: 1000, steps: 200, batchSize: 64 }),
  teacherStudentTask({ name: 'teacher-student', suite: 'standard', inputs: 16, teacherHidden: 32, studentHidden: 64, outputs: 4, condition: 100, nTrain: 4000, nVal: 1000, steps: 300, batchSize: 64 }),
  languageModelTask({ name: 'tiny-lm', suite: 'standard', vocab: 16, branching: 3, context: 4, embedding: 8, hidden: 64, nTrain: 8000, nVal: 2000, steps: 300, batchSize: 64 }),
  // metaval: larger versions
  quadraticTask({ name: 'quadratic-large', suite: 'metaval', dim: 64, condition: 10000, nTrain: 1024, nVal: 1024, steps: 500, batchSize: 64, batching: 'mini' }),
  mnistMlpTask({ name: 'mnist-mlp-deep', suite: 'metaval', side: 28, hidden: [256, 128], activation: 'relu', nTrain: 9000, nVal: 1000, steps: 800, batchSize: 128 }),
  mnistCnnTask({ name: 'mnist-cnn-wide', suite: 'metaval', filters: 16, kernel: 5, hidden: 64, nTrain: 9000, nVal: 1000, steps: 500, batchSize: 64 }),
  teacherStudentTask({ name: 'teacher-student-large', suite: 'metaval', inputs: 32, teacherHidden: 128, studentHidden: 256, outputs: 8, condition: 1000, nTrain: 16000, nVal: 4000, steps: 1000, batchSize: 128 }),
  languageModelTask({ name: 'lm-large', suite: 'metaval', vocab: 32, branching: 4, context: 6, embedding: 16, hidden: 128, nTrain: 32000, nVal: 4000, steps: 1000, batchSize: 128 }),
];

/** A set of tasks by name: the built-ins plus any custom ones. */
export class TaskRegistry {
  private readonly byName = new Map<string, Task>();

  constructor(tasks: readonly Task[] = BUILTIN_TASKS) {
    for (const t of tasks) this.add(t);
  }

  add(t: Task): void {
    if (this.byName.has(t.name)) throw new Error(`task '${t.name}' is defined twice`);
    this.byName.set(t.name, t);
  }

  get(name: string): Task | undefined {
    return this.byName.get(name);
  }

  all(): Task[] {
    return [...this.byName.values()];
  }

  suite(s: SuiteName): Task[] {
    return this.all().filter((t) => t.suite === s);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

export function builtinTask(name: string): Task | undefined {
  return BUILTIN_TASKS.find((t) => t.name === name);
}

export function suiteTasks(s: SuiteName): Task[] {
  return BUILTIN_TASKS.filter((t) => t.suite === s);
}
