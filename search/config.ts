/**
 * The settings of a search, validated with zod. The same schema checks flags,
 * a `--config FILE` (JSON, every flag by its camelCase name) and the copy that
 * the run store keeps, so a resumed run uses exactly its stored settings.
 */
import { z } from 'zod';

export const MUTATION_KINDS = ['insert', 'delete', 'modify'] as const;
export type MutationOp = (typeof MUTATION_KINDS)[number];

const int = (min: number) => z.number().int().min(min);

export const MutationWeightsSchema = z
  .object({
    insert: z.number().min(0).default(1),
    delete: z.number().min(0).default(1),
    modify: z.number().min(0).default(1),
  })
  .strict()
  .refine((w) => w.insert + w.delete + w.modify > 0, { message: 'at least one mutation weight must be positive' });

export type MutationWeights = z.infer<typeof MutationWeightsSchema>;

/** Settings that decide what the run computes: stored with the run, fixed on resume (except `budget`). */
export const SearchConfigSchema = z
  .object({
    /** Seed of every random choice of the run. */
    seed: int(0).max(2 ** 32 - 1),
    /** Children judged (trained, pruned, cached, invalid or failed), seeds included. */
    budget: int(1),
    /**
     * Wall-clock budget in milliseconds, summed over sessions (`--time 30m`):
     * the run ends at whichever of `budget` and `timeMs` comes first. May be
     * given again on resume, like `budget`.
     */
    timeMs: int(1).optional(),
    /** The most of the workers' time that meta-validation may take (0 to 1; absent: 0.2). */
    metavalShare: z.number().min(0).max(1).optional(),
    population: int(1),
    tournament: int(1),
    /** Seed program names or `.opt` paths that start the population. */
    seeds: z.array(z.string().min(1)).min(1),
    /** Restart from the best program after this many children without improvement (0: never). */
    restartAfter: int(0),
    mutationWeights: MutationWeightsSchema,
    /**
     * State slots every program has at least: seeds with fewer get unused,
     * zero-initialised slots (`s1`, `s2`, ...) that mutations can put to use,
     * as the Lion search's fixed signature `train(w, g, m, v, lr)` does. Absent
     * in runs stored before this setting: 0.
     */
    stateSlots: int(0).max(8).optional(),
    /** Longest body a mutation may make (insertions beyond it become modifications). */
    maxStatements: int(1),
    /** Population percentile that a child's quick fitness must exceed to run the standard suite. */
    hurdle: z.number().min(0).max(1),
    /** The suite children are finally judged on; `quick` makes the hurdle suite the only stage. */
    suite: z.enum(['quick', 'standard']),
    /** Every this many children, the top programs are scored on the metaval suite (0: never). */
    metavalEvery: int(0),
    metavalTop: int(1),
    /**
     * Children bred ahead of the committed state: child i is bred from the state
     * after child i - batch was committed. Fixed per run (not per worker count)
     * so that the run is the same whatever `--workers`.
     */
    batch: int(1),
    /**
     * Children to be trained that are kept bred ahead: when the `batch`
     * window holds fewer (most children being cache hits), breeding reaches
     * further back so that no worker idles. Fixed per run, like `batch`.
     * Absent in runs stored before it: the `batch` window alone.
     */
    ahead: int(1).optional(),
    /** Learning-rate multipliers each evaluation sweeps (empty: the evaluator's default). */
    lrs: z.array(z.number().positive()),
    /** Steps per task instead of each task's default (tests and demos). */
    steps: int(1).optional(),
    /** Seed of the task data and model initialisation; every child sees the same data. */
    evalSeed: int(0),
    /** A user's tasks module (absolute path, `defineTask` exports) whose tasks join the suites. */
    tasksModule: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.tournament <= c.population, { message: 'tournament must not exceed population', path: ['tournament'] });

export type SearchConfig = z.infer<typeof SearchConfigSchema>;

/** Settings of this machine: they change neither children nor scores, so a resume may change them. */
export const MachineConfigSchema = z
  .object({
    workers: int(1),
    /** Seconds one evaluation may take before its worker is killed. */
    evalTimeout: z.number().positive(),
    backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']),
  })
  .strict();

export type MachineConfig = z.infer<typeof MachineConfigSchema>;

/** The children's budget of a run given only `--time`: far more than any run judges. */
export const UNLIMITED_CHILDREN = 1_000_000_000;

export const DEFAULTS = {
  budget: 1000,
  population: 100,
  tournament: 10,
  seeds: ['adamw'],
  restartAfter: 0,
  mutationWeights: { insert: 1, delete: 1, modify: 1 },
  maxStatements: 30,
  stateSlots: 2,
  hurdle: 0.5,
  suite: 'standard',
  metavalEvery: 100,
  metavalTop: 3,
  metavalShare: 0.2,
  batch: 64,
  ahead: 16,
  lrs: [] as number[],
  evalTimeout: 300,
  backend: 'auto',
} as const;

/** One line per problem: `population: expected an integer >= 1`. */
export function formatZodError(err: z.ZodError, prefix = ''): string {
  return err.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : '(top level)';
      return `${prefix}${where}: ${i.message}`;
    })
    .join('; ');
}

/** Validates a stored or assembled configuration; throws `Error` with a one-line message. */
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
