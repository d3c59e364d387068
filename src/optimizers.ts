/**
 * Ready-made optimizers: every seed as `optimizers.NAME(hparams)`, and any
 * program as `createOptimizer(programOrSource, hparams, { schedule })`. Both
 * return a `ProgramOptimizer`, a `tf.Optimizer`.
 */
import type { Program } from '../dsl/ast.js';
import { parse } from '../dsl/parse.js';
import { type SeedHparamName, type SeedName, SEEDS, seedProgram } from '../seeds/index.js';
import { ProgramOptimizer, type ProgramOptimizerOptions, type Schedule } from './optimizer.js';
import { SECOND_ORDER, type SecondOrderOptimizers } from './second-order/index.js';

export interface OptimizerOptions {
  /** Factor applied to `learningRate` at each (1-based) step. */
  schedule?: Schedule;
}

/** Hyperparameters of a seed by API name; each is optional and defaults as in the seed's file. */
export type SeedHparams<N extends SeedName> = { readonly [K in SeedHparamName<N>]?: number };

export type SeedOptimizers = { readonly [N in SeedName]: (hparams?: SeedHparams<N>, options?: OptimizerOptions) => ProgramOptimizer };

function build(program: Program, hparams: Readonly<Record<string, number | undefined>>, options: OptimizerOptions, name?: string): ProgramOptimizer {
  if (options === null || typeof options !== 'object') throw new Error(`${name ?? 'createOptimizer'}: options must be an object such as { schedule }`);
  const o: ProgramOptimizerOptions = { program, hparams };
  if (options.schedule !== undefined) o.schedule = options.schedule;
  if (name !== undefined) o.name = name;
  return new ProgramOptimizer(o);
}

/** `optimizers.adam({ learningRate: 1e-3 })`: every seed, by name; and the second-order `newton` and `hessianFree`. */
export const optimizers: SeedOptimizers & SecondOrderOptimizers = Object.freeze({
  ...(Object.fromEntries(
    SEEDS.map(({ name }) => [
      name,
      (hparams: Readonly<Record<string, number | undefined>> = {}, options: OptimizerOptions = {}) => build(seedProgram(name), hparams, options, name),
    ]),
  ) as SeedOptimizers),
  ...SECOND_ORDER,
});

/**
 * Any program as a `tf.Optimizer`. `programOrSource` is a parsed program or its
 * text (a `DslError` names the line and column of a mistake); `hparams` uses
 * API (camelCase) names; `learningRate` is required unless the program
 * declares a `learning_rate`.
 */
export function createOptimizer(
  programOrSource: Program | string,
  hparams: Readonly<Record<string, number | undefined>> = {},
  options: OptimizerOptions = {},
): ProgramOptimizer {
  const program = typeof programOrSource === 'string' ? parse(programOrSource) : programOrSource;
  return build(program, hparams, options);
}
