/**
 * `optevo search`: start a new run or resume one, on a pool of worker
 * threads, watched by the dashboard on a terminal or by plain progress lines.
 *
 * For other commands and tests, `openSearch` starts a search from a plan and
 * returns its handle (see search/handle.ts) and a `finish` that closes the
 * pool and the store once the handle's `done` has settled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { check } from '../../dsl/check.js';
import { parse } from '../../dsl/parse.js';
import type { SearchConfig } from '../../search/config.js';
import { SearchFault, startSearch } from '../../search/evolution.js';
import { referenceSources } from '../reference.js';
import type { SearchHandle } from '../../search/handle.js';
import { DB_FILE, SqliteRunStore, StoreError, generateRunName, resolveRunPath, type SeedSource } from '../../search/store.js';
import type { Executor, SearchStats } from '../../search/types.js';
import { isSeedName, seedNames, seedSource } from '../../seeds/index.js';
import { prepareWorkersBackend } from '../backend.js';
import { WorkerPool } from '../pool.js';
import { UserError } from './errors.js';
import { readText } from './program-file.js';
import { taskRegistry } from './task-options.js';
import { MACHINE_KEYS, SEARCH_KEYS, SEARCH_SETTINGS, flagName, planSearch, type SearchFlags, type SearchPlan } from './search-options.js';
import { addSettingOptions } from './setting-options.js';

/** Seed names or `.opt` files, read, parsed and checked now: a bad seed stops the command before anything is written. */
export function resolveSeeds(names: readonly string[]): SeedSource[] {
  return names.map((name) => {
    let source: string;
    if (isSeedName(name)) source = seedSource(name);
    else if (fs.existsSync(name) || /\.opt$/.test(name)) source = readText(name);
    else throw new UserError(`--seeds: '${name}' is neither a seed (${seedNames.join(', ')}) nor a file`);
    check(parse(source, { file: name }), { file: name });
    return { name, source };
  });
}

export interface SearchSession {
  handle: SearchHandle;
  store: SqliteRunStore;
  executor: Executor;
  /** Closes the executor and the store, and releases the run. Call after `handle.done` settles. */
  finish(): Promise<void>;
}

export type SearchRequest = { plan: SearchPlan; resume?: undefined } | { plan: SearchPlan; resume: string };

/** The lock file: one process writes a run at a time. A lock left by a killed process is taken over. */
function lockRun(dir: string): () => void {
  const file = path.join(dir, 'lock');
  try {
    const pid = Number(fs.readFileSync(file, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) throw new UserError(`run ${dir} is in use by process ${pid}`);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
  }
  fs.writeFileSync(file, String(process.pid));
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

/** Opens the run to resume and applies what may change: the budget. */
function openForResume(run: string, plan: SearchPlan): SqliteRunStore {
  let store: SqliteRunStore;
  try {
    store = SqliteRunStore.open(run, { runDir: plan.runDir });
  } catch (e) {
    if (e instanceof StoreError) throw new UserError(e.message);
    throw e;
  }
  try {
    const stored = store.config();
    for (const key of SEARCH_KEYS) {
      if (key === 'budget' || key === 'time' || !plan.given.has(key)) continue;
      const want = JSON.stringify(plan.config[key as keyof SearchConfig]);
      if (want !== JSON.stringify(stored[key as keyof SearchConfig]))
        throw new UserError(`${flagName(key)} cannot change when resuming: the run keeps its stored settings (only --budget and --time may be given again)`);
    }
    if (plan.given.has('name')) throw new UserError('--name cannot be given with --resume');
    if (plan.given.has('budget') && plan.config.budget !== stored.budget) {
      const judged = store.counters().committed;
      if (plan.config.budget < judged) throw new UserError(`--budget ${plan.config.budget} is below the ${judged} children this run has judged`);
      store.setBudget(plan.config.budget);
    }
    if (plan.given.has('time') && plan.config.time !== stored.time) store.setTimeBudget(plan.config.time ?? null);
    return store;
  } catch (e) {
    store.close();
    throw e;
  }
}

/** Creates or reopens the run, starts the workers and the search. */
export async function openSearch(
  req: SearchRequest,
  deps: { executor?: Executor; calibration?: { reference: string; twin: string } } = {},
): Promise<SearchSession> {
  const { plan } = req;
  let store: SqliteRunStore;
  if (req.resume !== undefined) {
    store = openForResume(req.resume, plan);
  } else {
    const seeds = resolveSeeds(plan.config.seeds);
    const dir = path.join(plan.runDir, plan.name ?? generateRunName());
    if (fs.existsSync(path.join(dir, DB_FILE)))
      throw new UserError(`a run already exists at ${dir} (resume it with --resume ${dir}, or choose another --name)`);
    // A tasks module that does not load stops the command here, before anything is written.
    if (plan.config.tasksModule) await taskRegistry(plan.config.tasksModule);
    store = SqliteRunStore.create(dir, { config: plan.config, seeds, ...(plan.name ? { name: plan.name } : {}) });
  }
  const tasksModule = store.config().tasksModule;
  if (tasksModule && req.resume !== undefined) {
    try {
      await taskRegistry(tasksModule);
    } catch (e) {
      store.close();
      throw e;
    }
  }
  let unlock: () => void;
  try {
    unlock = lockRun(store.dir);
  } catch (e) {
    store.close();
    throw e;
  }
  let handle: SearchHandle | undefined;
  const early: [('info' | 'warn' | 'error'), string, number | undefined][] = [];
  if (!deps.executor) await prepareWorkersBackend(plan.machine.backend);
  const executor =
    deps.executor ??
    new WorkerPool({
      workers: plan.machine.workers,
      timeoutMs: plan.machine.evalTimeout * 1000,
      backend: plan.machine.backend,
      ...(tasksModule ? { tasksModule } : {}),
      onLog: (level, message, worker) => (handle ? handle.log(level, message, worker) : early.push([level, message, worker])),
    });
  // Tests that bring their own executor also bring their own numbers: no reference runs.
  const calibration = deps.calibration ?? (deps.executor ? undefined : referenceSources());
  handle = startSearch({ store, executor, ...(calibration ? { calibration } : {}) });
  const h = handle;
  setImmediate(() => early.forEach(([l, m, w]) => h.log(l, m, w)));
  const batch = store.config().batch;
  // After the search's `start` event, so that watchers see it.
  if (executor.size > batch)
    setImmediate(() => h.log('warn', `${executor.size} workers but only ${batch} children are bred ahead (--batch): some workers will idle`));
  return {
    handle,
    store,
    executor,
    finish: async () => {
      await executor.close();
      store.close();
      unlock();
    },
  };
}

export interface SearchCommandOptions extends SearchFlags {}

async function searchAction(flags: SearchCommandOptions): Promise<void> {
  const plan = planSearch(flags);
  // Loaded before the search starts, so that the watcher sees its first event.
  const { watchSearch, shouldUseDashboard } = await import('../tui/run.js');
  const session = await openSearch(flags.resume !== undefined ? { plan, resume: flags.resume } : { plan });
  const { handle } = session;
  const onTerm = () => void handle.stop();
  process.on('SIGTERM', onTerm);
  let stats: SearchStats;
  try {
    const dashboard = shouldUseDashboard({ tui: plan.tui });
    stats = await watchSearch(handle, { tui: plan.tui });
    if (dashboard) process.stdout.write(summary(handle, stats) + '\n');
  } catch (e) {
    if (e instanceof SearchFault) throw new UserError(e.message);
    throw e;
  } finally {
    process.off('SIGTERM', onTerm);
    await handle.stop().catch(() => undefined);
    await session.finish();
  }
}

export function summary(handle: Pick<SearchHandle, 'run' | 'dir'>, s: SearchStats): string {
  const never = s.cached + s.invalid;
  const best = s.bestId === null ? 'no program trained' : `best #${s.bestId} fitness ${s.bestFitness?.toFixed(4)}`;
  return (
    `${s.judged >= s.budget ? 'done' : 'stopped'}: ${s.judged}/${s.budget} children judged ` +
    `(${s.trained} trained, ${s.cached} cached, ${s.invalid} invalid, ${s.failed} failed; ` +
    `${s.judged ? Math.round((100 * never) / s.judged) : 0}% never trained), ${best}; run at ${handle.dir}`
  );
}

export function register(program: Command): void {
  const cmd = program.command('search').description('evolve optimizer programs (regularized evolution, warm-started from seeds)');
  addSettingOptions(cmd, SEARCH_SETTINGS)
    .option('--resume <run>', 'continue a stopped or killed run (a name under --run-dir, or its path)')
    .option('--config <file>', 'JSON file of settings, every flag by its camelCase name; flags override it')
    .action(async (opts: SearchCommandOptions) => searchAction(opts));
}

export { MACHINE_KEYS, resolveRunPath };
