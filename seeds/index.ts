/**
 * The seed library: the classic optimizers as programs in the language, one
 * `.opt` file each, loaded by name. The search warm-starts from them and the
 * library replays them as `tf.Optimizer`s (`src/optimizers.ts`).
 *
 * `SEEDS` is the one table of seeds: adding a seed is a `.opt` file, a row
 * here and a case in the reference script (test/fixtures/reference/).
 * Defaults live in the `.opt` files only; a row lists the hyperparameters'
 * API names so that `optimizers.NAME(...)` is typed, and the tests check that
 * the two agree.
 */
import type { Program } from '../dsl/ast.js';
import { parse } from '../dsl/parse.js';
import { readSeedFile, seedFilePath } from './source.js';

export interface SeedRow {
  /** The name users call: `optimizers.NAME`, `optevo seeds NAME`. */
  readonly name: string;
  /** Hyperparameters in API (camelCase) form, `learningRate` first. */
  readonly hparams: readonly string[];
  /** What its reference trajectory is checked against. */
  readonly reference: 'pytorch' | 'formula';
}

export const SEEDS = [
  { name: 'sgd', hparams: ['learningRate'], reference: 'pytorch' },
  { name: 'momentum', hparams: ['learningRate', 'momentum'], reference: 'pytorch' },
  { name: 'nesterov', hparams: ['learningRate', 'momentum'], reference: 'pytorch' },
  { name: 'adaptiveGains', hparams: ['learningRate', 'gainUp', 'gainDown', 'gainMin', 'gainMax'], reference: 'formula' },
  { name: 'rprop', hparams: ['learningRate', 'etaPlus', 'etaMinus', 'stepMin', 'stepMax'], reference: 'formula' },
  { name: 'rmsprop', hparams: ['learningRate', 'decay', 'epsilon'], reference: 'pytorch' },
  { name: 'adagrad', hparams: ['learningRate', 'epsilon'], reference: 'pytorch' },
  { name: 'adadelta', hparams: ['learningRate', 'rho', 'epsilon'], reference: 'pytorch' },
  { name: 'adam', hparams: ['learningRate', 'beta1', 'beta2', 'epsilon'], reference: 'pytorch' },
  { name: 'adamw', hparams: ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'], reference: 'pytorch' },
  { name: 'lion', hparams: ['learningRate', 'beta1', 'beta2', 'weightDecay'], reference: 'formula' },
  { name: 'powerSign', hparams: ['learningRate', 'beta', 'logBase'], reference: 'formula' },
  { name: 'addSign', hparams: ['learningRate', 'beta', 'alpha'], reference: 'formula' },
  { name: 'nadam', hparams: ['learningRate', 'beta1', 'beta2', 'epsilon'], reference: 'formula' },
  { name: 'amsgrad', hparams: ['learningRate', 'beta1', 'beta2', 'epsilon'], reference: 'pytorch' },
  { name: 'adabelief', hparams: ['learningRate', 'beta1', 'beta2', 'epsilon'], reference: 'formula' },
  { name: 'conjugateGradient', hparams: ['learningRate', 'epsilon'], reference: 'formula' },
] as const satisfies readonly SeedRow[];

export type SeedName = (typeof SEEDS)[number]['name'];
/** The API names of a seed's hyperparameters. */
export type SeedHparamName<N extends SeedName> = Extract<(typeof SEEDS)[number], { name: N }>['hparams'][number];

export const seedNames: readonly SeedName[] = SEEDS.map((s) => s.name);

export function isSeedName(name: string): name is SeedName {
  return (seedNames as readonly string[]).includes(name);
}

/** `weight_decay` (a program's name) -> `weightDecay` (the API's name). */
export function camelCase(snake: string): string {
  return snake.replace(/_+([\p{L}\p{N}])/gu, (_, c: string) => c.toUpperCase());
}

function unknownSeed(name: string): Error {
  return new Error(`unknown seed '${name}' (seeds: ${seedNames.join(', ')})`);
}

/** Path of a seed's `.opt` file. */
export function seedPath(name: string): string {
  if (!isSeedName(name)) throw unknownSeed(name);
  return seedFilePath(`${name}.opt`);
}

const sources = new Map<string, string>();
/** The text of a seed's program, header comment included. */
export function seedSource(name: string): string {
  let s = sources.get(name);
  if (s === undefined) {
    if (!isSeedName(name)) throw unknownSeed(name);
    s = readSeedFile(`${name}.opt`);
    sources.set(name, s);
  }
  return s;
}

const programs = new Map<string, Program>();
/** A seed's program, parsed (one shared, read-only value per seed). */
export function seedProgram(name: string): Program {
  let p = programs.get(name);
  if (p === undefined) {
    p = parse(seedSource(name), { file: `seeds/${name}.opt` });
    programs.set(name, p);
  }
  return p;
}

/** A seed's hyperparameters and their defaults, by API (camelCase) name, in file order. */
export function seedHparams(name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of seedProgram(name).hparams) out[camelCase(h.name)] = h.value;
  return out;
}

/** The first line of a seed's header comment: what `optevo seeds` shows. */
export function seedSummary(name: string): string {
  return seedProgram(name).header[0] ?? name;
}

const files = new Map<string, Program>();
/**
 * A program from a file under `seeds/` that is not a seed of the search: the
 * library's variants (`variants/adamax.opt`) and tf.train's conventions
 * (`tfjs/adagrad.opt`). One shared, read-only value per file.
 */
export function seedFileProgram(file: string): Program {
  let p = files.get(file);
  if (p === undefined) {
    if (!/^(?:variants|tfjs)\/[A-Za-z0-9]+\.opt$/.test(file)) throw new Error(`not a program file of the library: '${file}'`);
    p = parse(readSeedFile(file), { file: `seeds/${file}` });
    files.set(file, p);
  }
  return p;
}
