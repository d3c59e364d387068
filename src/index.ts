/**
 * The public entry of `optevo`: a plain list of re-exports.
 */
export { optimizers, createOptimizer } from './optimizers.js';
export type { OptimizerOptions, SeedHparams, SeedOptimizers } from './optimizers.js';
export { ProgramOptimizer } from './optimizer.js';
export type { NamedTensor, ProgramOptimizerOptions, Schedule } from './optimizer.js';
export { SEEDS, seedNames, isSeedName, seedSource, seedProgram, seedHparams, seedSummary } from '../seeds/index.js';
export type { SeedName, SeedRow } from '../seeds/index.js';
export { parse as parseProgram } from '../dsl/parse.js';
export { print as printProgram } from '../dsl/print.js';
export { DslError } from '../dsl/errors.js';
export type { Program } from '../dsl/ast.js';
export { check as checkProgram } from '../dsl/check.js';
export { simplify as simplifyProgram } from '../dsl/simplify.js';
export { analyze as analyzeProgram } from '../dsl/analyze.js';
export type { Analysis } from '../dsl/analyze.js';
export { structuralHash, functionalFingerprint } from '../dsl/fingerprint.js';
export { interpreter } from '../dsl/interpret.js';
export type { Interpreter, RefState } from '../dsl/interpret.js';
export { compile as compileProgram } from '../dsl/compile.js';
export type { CompiledProgram, CompileOptions } from '../dsl/compile.js';
export { FUNCTIONS } from '../dsl/functions.js';

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
