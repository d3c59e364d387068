/**
 * Custom tasks: users search for optimizers that suit their own models.
 *
 * ```ts
 * export const myTask = defineTask({
 *   name: 'my-mlp', suite: 'standard',
 *   data: { x, y, xShape: [20], classes: 3 },   // or { train, val, ... }, or (seed) => either
 *   model: { mlp: [20, 32, 3] },                 // or { params, forward, batchable }
 *   loss: 'cross-entropy', metric: 'accuracy', steps: 200, batchSize: 32,
 * });
 * ```
 *
 * A custom task gets what the built-in ones get: seeded splits, batches and
 * initialisation, batched learning-rate sweeps when its model can stack
 * replicas (else separate runs, said so), and the same failure handling.
 * `--tasks-module FILE` loads a module whose exports include tasks.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { type Dataset, type Split, split } from '../data/dataset.js';
import { rng } from '../data/rng.js';
import { mlpForward, mlpParams, type Activation } from '../train/layers.js';
import type { InitRule } from '../train/init.js';
import type { Schedule } from '../train/schedule.js';
import { CONSTANT, DIVERGENCE, GLOROT } from './defaults.js';
import { BUILTIN_TASKS, SUITES, TaskRegistry } from './registry.js';
import type { Batching, LossFn, MetricFn, Model, SuiteName, Task, TfTask } from './types.js';

type Numbers = ArrayLike<number>;

/** Examples, all in one set (split by the seed) or already split. */
export type DataSpec =
  | { x: Numbers; y: Numbers; xShape: number[]; yShape?: number[]; classes?: number; validation?: number; source?: string }
  | { train: { x: Numbers; y: Numbers }; val: { x: Numbers; y: Numbers }; xShape: number[]; yShape?: number[]; classes?: number; source?: string };

/** A model of its own (`batchable` defaults to false: replicas run one after another) or a multilayer perceptron. */
export type ModelSpec = (Omit<Model, 'batchable'> & { batchable?: boolean }) | { mlp: number[]; activation?: Activation; init?: InitRule };

export interface TaskSpec {
  name: string;
  suite?: SuiteName;
  description?: string;
  data: DataSpec | ((seed: number) => DataSpec);
  model: ModelSpec;
  loss?: 'cross-entropy' | 'mse' | LossFn;
  metric?: 'accuracy' | 'loss' | MetricFn;
  steps?: number;
  batchSize?: number;
  batching?: Batching;
  schedule?: Schedule;
  whiten?: boolean;
  /** Losses below this count as equal when scores are normalised (default 0). */
  lossFloor?: number;
  divergence?: number;
}

const TASK_MARK = Symbol.for('optevo.task');

export class TaskDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskDefinitionError';
  }
}

function fail(name: string, msg: string): never {
  throw new TaskDefinitionError(`task '${name}': ${msg}`);
}

export function defineTask(spec: TaskSpec): TfTask {
  const name = spec?.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new TaskDefinitionError(`a task needs a name of letters, digits, '-', '_' or '.', got ${JSON.stringify(name)}`);
  const suite = spec.suite ?? 'standard';
  if (!SUITES.includes(suite)) fail(name, `unknown suite '${String(suite)}' (expected ${SUITES.join(', ')})`);
  if (spec.data === undefined || spec.data === null) fail(name, 'no data');
  if (!spec.model) fail(name, 'no model');
  const steps = spec.steps ?? 200;
  const batchSize = spec.batchSize ?? 32;
  if (!Number.isInteger(steps) || steps < 1) fail(name, `steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) fail(name, `batchSize must be a positive integer, got ${batchSize}`);
  const model = toModel(name, spec.model);
  const cache = new Map<number, Dataset>();
  const data = (seed: number): Dataset => {
    let ds = cache.get(seed);
    if (!ds) {
      let raw: DataSpec;
      try {
        raw = typeof spec.data === 'function' ? spec.data(seed) : spec.data;
      } catch (e) {
        // The user's code failed, not the program under test: say whose and where.
        throw new TaskDefinitionError(`task '${name}': its data function failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
      }
      ds = toDataset(name, raw, seed);
      cache.set(seed, ds);
    }
    return ds;
  };
  const probe = typeof spec.data === 'function' ? null : spec.data;
  const classes = probe?.classes;
  const loss = spec.loss ?? (classes ? 'cross-entropy' : 'mse');
  const metric = spec.metric ?? (loss === 'cross-entropy' ? 'accuracy' : 'loss');
  const task: TfTask = {
    kind: 'tf',
    name,
    suite,
    description: spec.description ?? `custom task ${name}`,
    source: probe?.source ?? 'custom data',
    steps,
    batchSize,
    batching: spec.batching ?? 'mini',
    schedule: spec.schedule ?? CONSTANT,
    metricName: typeof metric === 'string' ? metric : 'custom',
    lossFloor: spec.lossFloor ?? 0,
    divergence: spec.divergence ?? DIVERGENCE,
    whiten: spec.whiten ?? false,
    custom: true,
    data,
    model,
    loss,
    metric,
  };
  Object.defineProperty(task, TASK_MARK, { value: true });
  return task;
}

export function isTask(x: unknown): x is Task {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[TASK_MARK] === true;
}

function toModel(name: string, m: ModelSpec): Model {
  if ('mlp' in m) {
    const widths = m.mlp;
    if (!Array.isArray(widths) || widths.length < 2 || !widths.every((w) => Number.isInteger(w) && w > 0)) fail(name, 'model.mlp must list at least two positive layer widths');
    const act = m.activation ?? 'relu';
    return { params: mlpParams(widths, m.init ?? GLOROT), batchable: true, forward: (tf, ps, x, K) => mlpForward(tf, ps, x, K, act) };
  }
  if (!Array.isArray(m.params) || typeof m.forward !== 'function') fail(name, 'model needs params (a list of { name, shape, init }) and forward(tf, params, x, replicas)');
  for (const p of m.params) if (!p || !Array.isArray(p.shape) || !p.init) fail(name, `parameter ${JSON.stringify(p?.name)} needs a shape and an init rule`);
  return { params: m.params, forward: m.forward, batchable: m.batchable ?? false };
}

function toDataset(name: string, d: DataSpec, seed: number): Dataset {
  if (!d || !Array.isArray(d.xShape)) fail(name, 'data needs xShape (the shape of one example)');
  const xw = d.xShape.reduce((a, b) => a * b, 1);
  const yShape = d.yShape ?? [];
  const yw = d.classes ? 1 : yShape.reduce((a, b) => a * b, 1);
  const yOf = (y: Numbers) => (d.classes ? Int32Array.from(y) : Float32Array.from(y));
  const check = (s: { x: Numbers; y: Numbers }, what: string): Split => {
    if (!s || s.x === undefined || s.y === undefined) fail(name, `data.${what} needs x and y`);
    const n = s.x.length / xw;
    if (!Number.isInteger(n) || n < 1) fail(name, `data.${what}.x has ${s.x.length} values, not a whole number of ${xw}-value examples`);
    if (s.y.length !== n * yw) fail(name, `data.${what}.y has ${s.y.length} values for ${n} examples`);
    if (d.classes) for (let i = 0; i < s.y.length; i++) if (!(Number.isInteger(s.y[i]) && s.y[i]! >= 0 && s.y[i]! < d.classes)) fail(name, `label ${s.y[i]} is not a class in 0..${d.classes - 1}`);
    return { x: Float32Array.from(s.x), y: yOf(s.y), n };
  };
  let train: Split;
  let val: Split;
  if ('train' in d) {
    train = check(d.train, 'train');
    val = check(d.val, 'val');
  } else {
    const all = check(d, 'x/y');
    const fraction = d.validation ?? 0.2;
    if (!(fraction > 0 && fraction < 1)) fail(name, `validation must be a fraction in (0, 1), got ${fraction}`);
    const nVal = Math.max(1, Math.round(all.n * fraction));
    if (all.n - nVal < 1) fail(name, 'too few examples to split');
    ({ train, val } = split(all.x, all.y, xw, yw, all.n - nVal, nVal, rng(name, seed, 'split')));
  }
  return {
    xShape: d.xShape,
    yShape: d.classes ? [] : yShape,
    yKind: d.classes ? 'class' : 'real',
    ...(d.classes ? { classes: d.classes } : {}),
    train,
    val,
    source: d.source ?? 'custom data',
  };
}

/**
 * Loads a module and returns the tasks among its exports (the default
 * export may be a task or a list of tasks). Anything else exported that
 * looks meant as a task, or a module with no tasks, is an error with a
 * one-line message.
 */
export async function loadTasksModule(file: string): Promise<Task[]> {
  const path = resolve(file);
  if (!existsSync(path)) throw new TaskDefinitionError(`tasks module ${file}: no such file`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new TaskDefinitionError(`tasks module ${file} failed to load: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  const tasks: Task[] = [];
  for (const [key, value] of Object.entries(mod)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (isTask(v)) tasks.push(v);
      else if (key === 'default' || key === 'tasks' || Array.isArray(value))
        throw new TaskDefinitionError(`tasks module ${file}: export '${key}' is not a task (make tasks with defineTask)`);
      else if (typeof v === 'object' && v !== null && 'name' in v && ('model' in v || 'data' in v))
        throw new TaskDefinitionError(`tasks module ${file}: export '${key}' is not a task (make tasks with defineTask)`);
    }
  }
  if (tasks.length === 0) throw new TaskDefinitionError(`tasks module ${file} exports no tasks (export the results of defineTask)`);
  return tasks;
}

/** The built-in tasks plus those of a tasks module (for workers and the CLI). */
export async function registryWithModule(file?: string): Promise<TaskRegistry> {
  const reg = new TaskRegistry(BUILTIN_TASKS);
  if (file) for (const t of await loadTasksModule(file)) reg.add(t);
  return reg;
}
