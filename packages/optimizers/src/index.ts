/**
 * The public entry of `@optevo/optimizers`, the lean library: the language,
 * the seed programs (embedded as text by the build), the `tf.Optimizer`
 * adapter and its wrappers. It imports nothing but `@tensorflow/tfjs-core`,
 * so it runs in Node and in a browser. The `optevo` package re-exports all of
 * it beside the search.
 */
export { optimizers, createOptimizer } from '../../../src/optimizers.js';
export type { OptimizerOptions, RuleOptions, SeedHparams, SeedOptimizers } from '../../../src/optimizers.js';
export { CONVENTIONS, TFJS_RULES } from '../../../src/rules.js';
export type { Convention, RuleName } from '../../../src/rules.js';
export { chain, ChainedOptimizer, clipByGlobalNorm, clipByValue, accumulate, skipNonFinite, weightDecay, DEFAULT_DECAY_SKIP } from '../../../src/chain.js';
export type { ChainStep, GradientStep, UpdateStep, ClipByGlobalNorm, ClipByValue, Accumulate, SkipNonFinite, WeightDecay } from '../../../src/chain.js';
export { schedules, isScheduleValue } from '../../../src/schedules.js';
export type { ScheduleConfig, ScheduleValue } from '../../../src/schedules.js';
export { ProgramOptimizer } from '../../../src/optimizer.js';
export type { NamedTensor, ProgramOptimizerOptions, Schedule } from '../../../src/optimizer.js';
export { SEEDS, seedNames, isSeedName, seedSource, seedProgram, seedHparams, seedSummary } from '../../../seeds/index.js';
export type { SeedName, SeedRow } from '../../../seeds/index.js';
export { parse as parseProgram } from '../../../dsl/parse.js';
export { print as printProgram } from '../../../dsl/print.js';
export { DslError } from '../../../dsl/errors.js';
export type { Program } from '../../../dsl/ast.js';
export { check as checkProgram } from '../../../dsl/check.js';
export { simplify as simplifyProgram } from '../../../dsl/simplify.js';
export { analyze as analyzeProgram } from '../../../dsl/analyze.js';
export type { Analysis } from '../../../dsl/analyze.js';
export { structuralHash, functionalFingerprint } from '../../../dsl/fingerprint.js';
export { interpreter } from '../../../dsl/interpret.js';
export type { Interpreter, RefState } from '../../../dsl/interpret.js';
export { compile as compileProgram } from '../../../dsl/compile.js';
export type { CompiledProgram, CompileOptions } from '../../../dsl/compile.js';
export { FUNCTIONS } from '../../../dsl/functions.js';
