/**
 * The settings of a search run, as rows of one table (see settings.ts): the
 * zod schema, the defaults, the config file's keys and the flags of `optevo
 * search` are made from it. The same schema checks flags, a `--config FILE`
 * and the copy that the run store keeps, so a resumed run uses exactly its
 * stored settings.
 */
import { z } from 'zod';
import { SettingError, defaultsOf, read, schemaOf, type DefaultContext, type Reader, type Setting } from './settings.js';
import { MUTATION_OPS, type MutationOp } from './types.js';

export type { MutationOp } from './types.js';

const int = (min: number) => z.number().int().min(min);

const weight = z.number().min(0).default(1);

/** A weight for each of MUTATION_OPS (`satisfies`: adding an op without a weight does not compile). */
export const MutationWeightsSchema = z
  .object({ insert: weight, delete: weight, modify: weight } satisfies Record<MutationOp, typeof weight>)
  .strict()
  .refine((w) => MUTATION_OPS.some((op) => w[op] > 0), { message: 'at least one mutation weight must be positive' });

export type MutationWeights = z.infer<typeof MutationWeightsSchema>;

/** Learning-rate multipliers: an empty `--lrs ''` is a mistake, not a request for no rates. */
const rates: Reader = {
  ...read.numbers,
  read: (raw, where) => {
    const out = read.numbers.read(raw, where) as number[];
    if (out.length === 0 && typeof raw === 'string') throw new SettingError(`${where}: give at least one learning-rate multiplier (or leave the setting out for the default sweep)`);
    return out;
  },
};

/** The children's budget of a run given only `--time`: far more than any run judges. */
export const UNLIMITED_CHILDREN = 1_000_000_000;

const run = <const S extends Omit<Setting, 'scope'>>(row: S) => ({ ...row, scope: 'run' as const });

/** Settings that decide what the run computes: stored with the run, fixed on resume (except `budget`). */
export const RUN_SETTINGS = [
  run({
    key: 'seed',
    arg: '<n>',
    help: 'seed of every random choice of the run',
    read: read.number,
    schema: int(0).max(2 ** 32 - 1),
    default: { derive: (c: DefaultContext) => c.randomSeed(), text: 'random, recorded' },
  }),
  run({
    key: 'time',
    arg: '<duration>',
    help: 'wall-clock budget, summed over resumes: 30m, 2h, 1h30m; the run ends at whichever of --budget and --time comes first; may be given again with --resume',
    read: read.duration,
    // Milliseconds.
    schema: int(1).optional(),
  }),
  run({
    key: 'budget',
    arg: '<n>',
    help: 'children to judge (trained, pruned, cached, invalid or failed), seeds included; may be given again with --resume',
    read: read.number,
    schema: int(1),
    // With --time alone, the children's budget does not bind.
    default: { derive: (c: DefaultContext) => (c.values['time'] !== undefined ? UNLIMITED_CHILDREN : 1000), text: '1000, or no limit with --time' },
  }),
  run({ key: 'population', arg: '<n>', help: 'population size', read: read.number, schema: int(1), default: { value: 100 } }),
  run({
    key: 'tournament',
    arg: '<n>',
    help: 'tournament size',
    read: read.number,
    schema: int(1),
    default: { derive: (c: DefaultContext) => Math.min(10, c.values['population'] as number), text: '10, or the population if smaller' },
  }),
  run({
    key: 'seeds',
    arg: '<list>',
    help: 'comma-separated seed names or .opt files that start the population',
    read: read.list,
    schema: z.array(z.string().min(1)).min(1),
    default: { value: ['adamw'] },
  }),
  run({
    key: 'restartAfter',
    arg: '<n>',
    help: 'restart from the best program after N children without improvement (0: never)',
    read: read.number,
    schema: int(0),
    default: { value: 0 },
  }),
  run({
    key: 'mutationWeights',
    arg: '<w>',
    help: 'insert=W,delete=W,modify=W',
    read: read.weights,
    schema: MutationWeightsSchema,
    default: { value: { insert: 1, delete: 1, modify: 1 }, text: '1 each' },
  }),
  run({
    key: 'stateSlots',
    arg: '<n>',
    // As the Lion search's fixed signature `train(w, g, m, v, lr)`. Absent in runs stored before this setting: 0.
    help: 'state slots every program has at least; seeds with fewer get unused zero-initialised ones that mutation can use',
    read: read.number,
    schema: int(0).max(8).optional(),
    default: { value: 2 },
  }),
  run({
    key: 'maxStatements',
    arg: '<n>',
    help: 'longest program body a mutation may make (insertions beyond it become modifications)',
    read: read.number,
    schema: int(1),
    default: { value: 30 },
  }),
  run({
    key: 'hurdle',
    arg: '<p>',
    help: 'population percentile of quick fitness a child must reach to run the standard suite',
    read: read.number,
    schema: z.number().min(0).max(1),
    default: { value: 0.5 },
  }),
  run({
    key: 'suite',
    arg: '<name>',
    help: "the suite children are judged on: 'standard' (after the quick hurdle) or 'quick' (one stage)",
    read: read.text,
    schema: z.enum(['quick', 'standard']),
    default: { value: 'standard' },
  }),
  run({
    key: 'metavalEvery',
    arg: '<n>',
    help: 'meta-validate the top programs every N children (0: never)',
    read: read.number,
    schema: int(0),
    default: { value: 100 },
  }),
  run({
    key: 'metavalTop',
    arg: '<k>',
    help: 'how many top programs to meta-validate; the run recommends the best on meta-validation among them',
    read: read.number,
    schema: int(1),
    default: { value: 3 },
  }),
  run({
    key: 'metavalShare',
    arg: '<p>',
    // Absent in older runs: 0.2.
    help: "the most of the workers' time meta-validation may take, 0 to 1",
    read: read.number,
    schema: z.number().min(0).max(1).optional(),
    default: { value: 0.2 },
  }),
  run({
    key: 'metavalSuite',
    arg: '<name>',
    // One step up from the searched suite: held-out and larger, yet in proportion to
    // it. The metaval suite's tasks take minutes each on one core, far out of
    // proportion to a quick-suite search (under a second per child). Absent in older runs: 'metaval'.
    help: "the held-out suite of meta-validation: 'standard' or 'metaval' (larger tasks); never the searched suite",
    read: read.text,
    schema: z.enum(['standard', 'metaval']).optional(),
    default: { derive: (c: DefaultContext) => (c.values['suite'] === 'quick' ? 'standard' : 'metaval'), text: "'standard' with --suite quick, else 'metaval'" },
  }),
  run({
    key: 'batch',
    arg: '<n>',
    // Fixed per run (not per worker count) so that the run is the same whatever `--workers`.
    help: 'children bred ahead of the committed state (child i is bred from the state after child i - batch); fixed per run so results do not depend on --workers; at least a few times --workers',
    read: read.number,
    schema: int(1),
    default: { value: 64 },
  }),
  run({
    key: 'ahead',
    arg: '<n>',
    // Absent in older runs: the batch window alone.
    help: 'children to be trained kept bred ahead, so that cache hits never leave a worker idle; fixed per run; at least --workers',
    read: read.number,
    schema: int(1).optional(),
    default: { value: 16 },
  }),
  run({
    key: 'lrs',
    arg: '<list>',
    help: 'learning-rate multipliers swept per task',
    read: rates,
    schema: z.array(z.number().positive()),
    default: { value: [], text: "the evaluator's sweep" },
  }),
  run({ key: 'steps', arg: '<n>', help: "steps per task instead of each task's default", read: read.number, schema: int(1).optional() }),
  run({
    key: 'sweep',
    arg: '<kind>',
    // Optional: runs stored before this setting have none, and sweep every rate to the end.
    // Halving by default: it picked the full sweep's best rate on every task for 198 of 200 programs of a search (bench/halving.ts).
    help: "how each evaluation sweeps its rates: 'full' (every rate to the end) or 'halving' (the rates clearly behind by smoothed training loss stop early, the rest finish)",
    read: read.text,
    schema: z.enum(['full', 'halving']).optional(),
    default: { value: 'halving' },
  }),
  run({
    key: 'evalSeed',
    arg: '<n>',
    help: 'seed of the task data and model initialisation; every child sees the same data',
    read: read.number,
    schema: int(0),
    default: { derive: (c: DefaultContext) => c.values['seed'], text: 'the run seed' },
  }),
  run({
    key: 'tasksModule',
    arg: '<file>',
    help: 'a module of your own tasks (defineTask exports) that join the suites',
    read: read.path,
    schema: z.string().min(1).optional(),
  }),
] as const satisfies readonly Setting[];

export const SearchConfigSchema = schemaOf(RUN_SETTINGS)
  .refine((c) => c.tournament <= c.population, {
    message: 'tournament must not exceed population',
    path: ['tournament'],
  })
  .refine((c) => c.metavalSuite !== c.suite, {
    message: 'must differ from --suite: meta-validation is on held-out tasks',
    path: ['metavalSuite'],
  });

/** The suite meta-validation runs on (runs stored before the setting: the metaval suite). */
export function metavalSuiteOf(c: Pick<SearchConfig, 'metavalSuite'>): 'standard' | 'metaval' {
  return c.metavalSuite ?? 'metaval';
}

export type SearchConfig = z.infer<typeof SearchConfigSchema>;

/** The run settings' constant defaults, by key. */
export const DEFAULTS = defaultsOf(RUN_SETTINGS) as Partial<SearchConfig>;

/** One line per problem: `population: expected an integer >= 1`. */
export function formatZodError(err: z.ZodError, prefix = ''): string {
  return err.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : '(top level)';
      return `${prefix}${where}: ${i.message}`;
    })
    .join('; ');
}

/** Validates a stored or assembled configuration; throws `ConfigError` with a one-line message. */
export function parseSearchConfig(value: unknown, what = 'configuration'): SearchConfig {
  const r = SearchConfigSchema.safeParse(value);
  if (!r.success) throw new ConfigError(`invalid ${what}: ${formatZodError(r.error)}`);
  return r.data;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
