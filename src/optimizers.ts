/**
 * Ready-made optimizers: every seed, and the library's further rules, as
 * `optimizers.NAME(hparams, options)`, and any program as
 * `createOptimizer(programOrSource, hparams, options)`. Both return a
 * `ProgramOptimizer`, a `tf.Optimizer`.
 */
import type { Program } from '../dsl/ast.js';
import { parse } from '../dsl/parse.js';
import { type SeedHparamName, type SeedName, SEEDS } from '../seeds/index.js';
import { ProgramOptimizer, type ProgramOptimizerOptions, type Schedule } from './optimizer.js';
import { type Convention, LIBRARY_RULES, type RuleName, ruleProgram } from './rules.js';

export interface OptimizerOptions {
  /** Factor applied to `learningRate` at each (1-based) step; a value from `schedules` serialises with the optimizer. */
  schedule?: Schedule;
}

export interface RuleOptions extends OptimizerOptions {
  /**
   * `'pytorch'` (the default): the rule as PyTorch's torch.optim computes it.
   * `'tfjs'`: exactly as tf.train's optimizer of the same name (sgd, momentum,
   * nesterov, rmsprop, adagrad, adadelta, adam, adamax).
   */
  convention?: Convention;
}

type Hparams<K extends string> = { readonly [P in K]?: number | undefined };
/** Hyperparameters of a seed by API name; each is optional (undefined counts as not given) and defaults as in the seed's file. */
export type SeedHparams<N extends SeedName> = Hparams<SeedHparamName<N>>;

/**
 * Every rule as a factory. Each hyperparameter is optional; the defaults
 * below are those of the rule's program file (`optevo seeds NAME` prints it).
 */
export interface SeedOptimizers {
  /**
   * Stochastic gradient descent: w -= lr g.
   *
   * Defaults: learningRate 0.01. The same as tf.train.sgd.
   */
  sgd(hparams?: SeedHparams<'sgd'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * Heavy-ball momentum: p = momentum p + g; w -= lr p (PyTorch SGD, dampening 0).
   *
   * Defaults: learningRate 0.01, momentum 0.9. The same as tf.train.momentum.
   */
  momentum(hparams?: SeedHparams<'momentum'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * Nesterov momentum, PyTorch's form: p = momentum p + g; w -= lr (g + momentum p).
   *
   * Defaults: learningRate 0.01, momentum 0.9. The same as tf.train.momentum(lr, momentum, true).
   */
  nesterov(hparams?: SeedHparams<'nesterov'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * Separate adaptive gains: a gain per weight, up by gainUp where g keeps its sign, times gainDown where it flips.
   *
   * Defaults: learningRate 0.01, gainUp 0.05, gainDown 0.95, gainMin 0.1, gainMax 10.
   */
  adaptiveGains(hparams?: SeedHparams<'adaptiveGains'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * Rprop without backtracking: a step size per weight; w -= step sign(g).
   *
   * Defaults: learningRate 0.01, etaPlus 1.2, etaMinus 0.5, stepMin 1e-6, stepMax 50.
   */
  rprop(hparams?: SeedHparams<'rprop'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * RMSProp: v = decay v + (1 - decay) g^2; w -= lr g / (sqrt(v) + epsilon).
   * `momentum` (not 0) adds a momentum buffer; `centered: true` divides by the
   * gradient's estimated standard deviation (PyTorch's and tf.train's options).
   *
   * Defaults: learningRate 0.001, decay 0.9, epsilon 1e-8, momentum 0, centered false.
   * `{ convention: 'tfjs' }`: epsilon 1e-7 inside the root, lr inside the momentum buffer, as tf.train.rmsprop.
   */
  rmsprop(hparams?: SeedHparams<'rmsprop'> & { readonly momentum?: number; readonly centered?: boolean }, options?: RuleOptions): ProgramOptimizer;
  /**
   * AdaGrad: acc += g^2; w -= lr g / sqrt(acc + epsilon).
   *
   * Defaults: learningRate 0.01, epsilon 1e-10, initialAccumulatorValue 0.
   * `{ convention: 'tfjs' }`: epsilon 1e-7, initialAccumulatorValue 0.1, as tf.train.adagrad.
   */
  adagrad(hparams?: SeedHparams<'adagrad'> & { readonly initialAccumulatorValue?: number }, options?: RuleOptions): ProgramOptimizer;
  /**
   * AdaDelta (Zeiler 2012), PyTorch's form with an outer learning rate.
   *
   * Defaults: learningRate 1, rho 0.9, epsilon 1e-6.
   * `{ convention: 'tfjs' }`: tf.train.adadelta's formula (the previous step's average of g^2), learningRate 0.001, rho 0.95, epsilon 1e-7.
   */
  adadelta(hparams?: SeedHparams<'adadelta'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * Adam with bias correction (Kingma & Ba 2015), epsilon outside the root.
   *
   * Defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8.
   * `{ convention: 'tfjs' }`: epsilon 1e-7, as tf.train.adam.
   */
  adam(hparams?: SeedHparams<'adam'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * AdaMax (Kingma & Ba 2015): Adam with the infinity norm; u = max(beta2 u, |g| + epsilon).
   *
   * Defaults: learningRate 0.002, beta1 0.9, beta2 0.999, epsilon 1e-8.
   * `{ convention: 'tfjs' }`: epsilon 1e-7 added to u, and tf.train.adamax's `decay` (0), as tf.train.adamax.
   */
  adamax(hparams?: Hparams<'learningRate' | 'beta1' | 'beta2' | 'epsilon' | 'decay'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * AdamW: Adam with decoupled weight decay, w -= lr weightDecay w as well (PyTorch).
   * To skip biases and normalisation scales, use `chain(optimizers.adam(...), weightDecay(rate))`.
   *
   * Defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8, weightDecay 0.01.
   */
  adamw(hparams?: SeedHparams<'adamw'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * Lion (Chen et al. 2023): w -= lr (sign(interp(g, m, beta1)) + weightDecay w).
   *
   * Defaults: learningRate 0.0001, beta1 0.9, beta2 0.99, weightDecay 0.
   */
  lion(hparams?: SeedHparams<'lion'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * PowerSign (Bello et al. 2017): w -= lr exp(logBase sign(g) sign(m)) g.
   *
   * Defaults: learningRate 0.1, beta 0.9, logBase 1.
   */
  powerSign(hparams?: SeedHparams<'powerSign'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * AddSign (Bello et al. 2017): w -= lr (alpha + sign(g) sign(m)) g.
   *
   * Defaults: learningRate 0.1, beta 0.9, alpha 1.
   */
  addSign(hparams?: SeedHparams<'addSign'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * NAdam (Dozat 2016): Adam with Nesterov momentum.
   *
   * Defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8.
   */
  nadam(hparams?: SeedHparams<'nadam'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * AMSGrad (Reddi et al. 2018): Adam that divides by the running maximum of v.
   *
   * Defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8.
   */
  amsgrad(hparams?: SeedHparams<'amsgrad'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * AdaBelief (Zhuang et al. 2020): Adam that divides by the spread of g around its running mean.
   *
   * Defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-16.
   */
  adabelief(hparams?: SeedHparams<'adabelief'>, options?: RuleOptions): ProgramOptimizer;
  /**
   * Nonlinear conjugate gradient (Polak-Ribiere+) with a fixed step, per tensor.
   *
   * Defaults: learningRate 0.01, epsilon 1e-12.
   */
  conjugateGradient(hparams?: SeedHparams<'conjugateGradient'>, options?: RuleOptions): ProgramOptimizer;
}

// Every rule has a factory above, and every factory is a rule.
type Missing = Exclude<RuleName, keyof SeedOptimizers> | Exclude<keyof SeedOptimizers, RuleName>;
const noneMissing: [Missing] extends [never] ? true : Missing = true;
void noneMissing;

function checkOptions(options: unknown, label: string): asserts options is RuleOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new Error(`${label}: options must be an object such as { schedule, convention }`);
  for (const k of Object.keys(options))
    if (k !== 'schedule' && k !== 'convention') throw new Error(`${label}: unknown option '${k}'; options are schedule, convention`);
}

function build(program: Program, hparams: Readonly<Record<string, number | undefined>>, options: OptimizerOptions, name?: string): ProgramOptimizer {
  const o: ProgramOptimizerOptions = { program, hparams };
  if (options.schedule !== undefined) o.schedule = options.schedule;
  if (name !== undefined) o.name = name;
  return new ProgramOptimizer(o);
}

function factory(name: RuleName) {
  return (hparams: Readonly<Record<string, unknown>> = {}, options: RuleOptions = {}): ProgramOptimizer => {
    checkOptions(options, name);
    if (hparams === null || typeof hparams !== 'object' || Array.isArray(hparams))
      throw new Error(`${name}: hyperparameters must be an object such as { learningRate: 0.01 }`);
    const chosen = ruleProgram(name, hparams, options.convention);
    return build(chosen.program, chosen.hparams, options, name);
  };
}

/** `optimizers.adam({ learningRate: 1e-3 })`: every rule, by name. */
export const optimizers: SeedOptimizers = Object.freeze(
  Object.fromEntries([...SEEDS.map((s) => s.name), ...LIBRARY_RULES].map((name) => [name, factory(name)])) as unknown as SeedOptimizers,
);

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
  if (typeof programOrSource !== 'string' && !isProgram(programOrSource))
    throw new TypeError(`createOptimizer: expected a program's text or a parsed program (parseProgram), got ${describeValue(programOrSource)}`);
  if (options === null || typeof options !== 'object') throw new Error(`createOptimizer: options must be an object such as { schedule }`);
  const program = typeof programOrSource === 'string' ? parse(programOrSource) : programOrSource;
  return build(program, hparams, options);
}

function isProgram(x: unknown): x is Program {
  const p = x as Partial<Program> | null;
  return typeof p === 'object' && p !== null && Array.isArray(p.params) && Array.isArray(p.body) && Array.isArray(p.returns) && Array.isArray(p.hparams);
}

function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object that is not a program' : typeof x;
}
