/**
 * Which program an `optimizers.NAME(...)` call runs. Most rules are one seed
 * file. Some choose among files by their options (rmsprop's `momentum` and
 * `centered`, so that a plain RMSProp carries no unused state), and each of
 * tf.train's seven rules has a `{ convention: 'tfjs' }` form that reproduces
 * tf.train exactly: its epsilon, where epsilon goes, its initial accumulator,
 * its AdaDelta. The default convention is PyTorch's, as everywhere in optevo.
 */
import type { Program } from '../dsl/ast.js';
import { type SeedName, isSeedName, seedFileProgram, seedProgram } from '../seeds/index.js';

export type Convention = 'pytorch' | 'tfjs';
export const CONVENTIONS: readonly Convention[] = ['pytorch', 'tfjs'];

/** Rules of the library that are not seeds of the search. */
export const LIBRARY_RULES = ['adamax'] as const;
export type RuleName = SeedName | (typeof LIBRARY_RULES)[number];

/** tf.train's seven rules, by their optevo names (`nesterov` is tf.train.momentum with useNesterov). */
export const TFJS_RULES = ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax'] as const;

export interface RuleProgram {
  program: Program;
  /** The hyperparameters for the program, without the choosing options. */
  hparams: Record<string, number | undefined>;
}

function withSlotInit(p: Program, slot: string, init: number): Program {
  return { ...p, params: p.params.map((q) => (q.name === slot ? { ...q, init } : q)) };
}

/**
 * The program and hyperparameters for `optimizers[name](hparams, { convention })`.
 * Throws a one-line error for an unknown convention, a rule tf.train lacks,
 * or a choosing option of the wrong type.
 */
export function ruleProgram(name: RuleName, given: Readonly<Record<string, unknown>>, convention: Convention = 'pytorch'): RuleProgram {
  if (!CONVENTIONS.includes(convention)) throw new Error(`${name}: unknown convention '${String(convention)}' (conventions: ${CONVENTIONS.join(', ')})`);
  const tfjs = convention === 'tfjs';
  if (tfjs && !(TFJS_RULES as readonly string[]).includes(name))
    throw new Error(`${name}: tf.train has no ${name}, so there is no tfjs convention for it (tf.train's rules: ${TFJS_RULES.join(', ')})`);
  const { centered, initialAccumulatorValue, ...rest } = given;
  const hparams = rest as Record<string, number | undefined>;
  if (centered !== undefined && name !== 'rmsprop') throw new Error(`${name}: unknown option 'centered' (only rmsprop takes it)`);
  if (initialAccumulatorValue !== undefined && name !== 'adagrad')
    throw new Error(`${name}: unknown option 'initialAccumulatorValue' (only adagrad takes it)`);

  switch (name) {
    case 'rmsprop': {
      if (centered !== undefined && typeof centered !== 'boolean') throw new Error(`rmsprop: 'centered' must be true or false, got ${JSON.stringify(centered)}`);
      const momentum = hparams['momentum'];
      const withMomentum = momentum !== undefined && momentum !== 0;
      // A momentum of 0 is the plain rule: it needs no buffer.
      if (momentum === 0) delete hparams['momentum'];
      const file = `rmsprop${centered ? 'Centered' : ''}${withMomentum ? 'Momentum' : ''}`;
      if (file === 'rmsprop' && !tfjs) return { program: seedProgram('rmsprop'), hparams };
      return { program: seedFileProgram(`${tfjs ? 'tfjs' : 'variants'}/${file}.opt`), hparams };
    }
    case 'adagrad': {
      let program = tfjs ? seedFileProgram('tfjs/adagrad.opt') : seedProgram('adagrad');
      if (initialAccumulatorValue !== undefined) {
        if (typeof initialAccumulatorValue !== 'number' || !Number.isFinite(initialAccumulatorValue))
          throw new Error(`adagrad: 'initialAccumulatorValue' must be a finite number, got ${JSON.stringify(initialAccumulatorValue)}`);
        program = withSlotInit(program, 'acc', initialAccumulatorValue);
      }
      return { program, hparams };
    }
    case 'adadelta':
      return { program: tfjs ? seedFileProgram('tfjs/adadelta.opt') : seedProgram('adadelta'), hparams };
    case 'adamax':
      return { program: seedFileProgram(tfjs ? 'tfjs/adamax.opt' : 'variants/adamax.opt'), hparams };
    case 'adam':
      return { program: tfjs ? seedFileProgram('tfjs/adam.opt') : seedProgram('adam'), hparams };
    default:
      if (!isSeedName(name)) throw new Error(`unknown optimizer '${String(name)}'`);
      // sgd, momentum and nesterov are the same in both conventions.
      return { program: seedProgram(name), hparams };
  }
}
