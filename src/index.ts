/**
 * The public entry of `optevo`: the optimizer library, and the search's
 * tasks, evaluation and backends.
 */
// The optimizer library (language, seeds, the tf.Optimizer adapter and its
// wrappers) is its own package, @optevo/optimizers; optevo gives all of it.
export * from '@optevo/optimizers';

// The second-order optimizers need the whole of tfjs, so they live in optevo:
// its `optimizers` (taking precedence over the library's) adds them.
export { optimizers } from './all-optimizers.js';
export { NewtonOptimizer, NEWTON_DEFAULTS } from './second-order/newton.js';
export type { NewtonHparams, NewtonStep } from './second-order/newton.js';
export { HessianFreeOptimizer, HESSIAN_FREE_DEFAULTS } from './second-order/hessian-free.js';
export type { HessianFreeHparams, HessianFreeStep, Curvature } from './second-order/hessian-free.js';
export { splitLoss, withCurvatureBatch, BUILTIN_LOSSES } from './second-order/split-loss.js';
export type { SplitLoss, BuiltinLoss } from './second-order/split-loss.js';
export { COST as SECOND_ORDER_COST } from './second-order/curvature.js';

// Proxy tasks and evaluation.
export { evaluate, evaluateJob, toSuiteResult, normalisedScore, smoothBound, refinedRates, DEFAULT_LRS, FAILED_SCORE, SCORE_BOUND } from './evaluate.js';
export type { EvaluateOptions, Evaluation, TaskEvaluation } from './evaluate.js';
export { defineTask, loadTasksModule, registryWithModule, isTask, TaskDefinitionError } from './tasks/define.js';
export type { TaskSpec, DataSpec, ModelSpec } from './tasks/define.js';
export { BUILTIN_TASKS, TaskRegistry, SUITES, suiteTasks, builtinTask } from './tasks/registry.js';
export type { Task, TfTask, ArrayTask, Model, ParamSpec, LossFn, MetricFn, Batching } from './tasks/types.js';
export { initBackend, BACKEND_NAMES } from './backend.js';
export type { BackendName, BackendInfo } from './backend.js';
export { dense, denseInput, convPatches, embed, mlpForward, mlpParams } from './train/layers.js';
