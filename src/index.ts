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
