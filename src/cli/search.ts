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
import { diskReferenceCache } from '../reference-cache.js';
import type { SearchHandle } from '../../search/handle.js';
import { DB_FILE, SqliteRunStore, StoreError, generateRunName, resolveRunPath, type SeedSource } from '../../search/store.js';
import type { Executor, LogLevel, SearchStats } from '../../search/types.js';
import { isSeedName, seedNames, seedSource } from '../../seeds/index.js';
import { prepareWorkersBackend } from '../backend.js';
import { WorkerPool } from '../pool.js';
import { Interrupted, UserError } from './errors.js';
import { asUserError, openPgSearch } from './pg-search.js';
import { storeOption } from './store-option.js';
import { readText } from './program-file.js';
import { shellQuote } from './shell-quote.js';
import { describeFsError } from './fs-errors.js';
import { makeFolder } from './make-folder.js';
import { onStdoutClosed, stdoutClosed } from './stdout.js';
import { judgedOf } from '../format.js';
import { type Machine, usefulWorkers } from './workers.js';
import { taskRegistry } from './task-options.js';
import { MACHINE_KEYS, SEARCH_KEYS, SEARCH_SETTINGS, flagName, planSearch, type SearchFlags, type SearchPlan } from './search-options.js';
import { addSettingOptions } from './setting-options.js';
import { storedProgress, type StoredProgress } from './stored-progress.js';

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
  /** What the store held before the search started (a resumed run's leaderboard), for the dashboard. */
  stored: StoredProgress;
  /** Closes the executor and the store, and releases the run. Call after `handle.done` settles. */
  finish(): Promise<void>;
}

export type SearchRequest = { plan: SearchPlan; resume?: undefined } | { plan: SearchPlan; resume: string };

/**
 * The lock file: one process writes a run at a time, and it takes the lock
 * before it writes anything. Created exclusively, so two processes cannot
 * both take it; a lock left by a process that no longer runs (kill -9, a
 * crash) is taken over.
 */
export function lockRun(dir: string): () => void {
  const file = path.join(dir, 'lock');
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UserError(`cannot write to run ${dir} (${describeFsError(e)}): a run that is resumed must be writable`);
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new UserError(`run ${dir} is in use by process ${pid}`);
      if (attempt > 0) throw new UserError(`run ${dir} is being taken by another process`);
      // Stale: remove it and try once more to create it exclusively.
      fs.rmSync(file, { force: true });
    }
  }
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Opens a run as the CLI reports it: a store's refusal is one line. */
function openStore(file: string, readonly: boolean): SqliteRunStore {
  try {
    return SqliteRunStore.open(file, { readonly });
  } catch (e) {
    if (e instanceof StoreError) throw new UserError(e.message);
    throw e;
  }
}

/**
 * Opens the run to resume (its lock already held) and applies what may
 * change: the budget. The request is judged on a read-only view first, so a
 * refused resume leaves the run's file exactly as it was.
 */
function openForResume(file: string, plan: SearchPlan): SqliteRunStore {
  if (plan.given.has('name')) throw new UserError('--name cannot be given with --resume');
  const view = openStore(file, true);
  let newBudget: number | null = null;
  let newTime: number | null | undefined;
  try {
    const stored = view.config();
    for (const key of SEARCH_KEYS) {
      if (key === 'budget' || key === 'time' || !plan.given.has(key)) continue;
      const want = JSON.stringify(plan.config[key as keyof SearchConfig]);
      if (want !== JSON.stringify(stored[key as keyof SearchConfig]))
        throw new UserError(`${flagName(key)} cannot change when resuming: the run keeps its stored settings (only --budget and --time may be given again)`);
    }
    if (plan.given.has('budget') && plan.config.budget !== stored.budget) {
      const judged = view.counters().committed;
      if (plan.config.budget < judged) throw new UserError(`--budget ${plan.config.budget} is below the ${judged} children this run has judged`);
      newBudget = plan.config.budget;
    }
    if (plan.given.has('time') && plan.config.time !== stored.time) newTime = plan.config.time ?? null;
  } finally {
    view.close();
  }
  const store = openStore(file, false);
  try {
    if (newBudget !== null) store.setBudget(newBudget);
    if (newTime !== undefined) store.setTimeBudget(newTime);
    return store;
  } catch (e) {
    store.close();
    throw e;
  }
}

/** Opens (resume) or creates the run, holding its lock before anything is written. */
async function openRunForWriting(req: SearchRequest): Promise<{ store: SqliteRunStore; unlock: () => void }> {
  const { plan } = req;
  if (req.resume !== undefined) {
    let where: { dir: string; file: string };
    try {
      where = resolveRunPath(req.resume, plan.runDir);
    } catch (e) {
      if (e instanceof StoreError) throw new UserError(e.message);
      throw e;
    }
    const unlock = lockRun(where.dir);
    try {
      return { store: openForResume(where.file, plan), unlock };
    } catch (e) {
      unlock();
      throw e;
    }
  }
  const seeds = resolveSeeds(plan.config.seeds);
  const dir = path.join(plan.runDir, plan.name ?? generateRunName());
  if (fs.existsSync(path.join(dir, DB_FILE)))
    throw new UserError(`a run already exists at ${dir} (resume it with --resume ${shellQuote(dir)}, or choose another --name)`);
  // A tasks module that does not load stops the command here, before anything is written.
  if (plan.config.tasksModule) await taskRegistry(plan.config.tasksModule);
  const created = !fs.existsSync(dir);
  try {
    makeFolder(dir);
  } catch (e) {
    throw new UserError(`--run-dir: cannot make the run folder ${dir} (${describeFsError(e)})`);
  }
  let unlock: () => void;
  try {
    unlock = lockRun(dir);
  } catch (e) {
    if (created) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  try {
    const store = SqliteRunStore.create(dir, { config: plan.config, seeds, ...(plan.name ? { name: plan.name } : {}) });
    return { store, unlock };
  } catch (e) {
    unlock();
    if (created) fs.rmSync(dir, { recursive: true, force: true });
    if (e instanceof StoreError) throw new UserError(e.message);
    throw new UserError(`cannot write the run at ${dir} (${describeFsError(e)})`);
  }
}

/** Creates or reopens the run, starts the workers and the search. */
export async function openSearch(
  req: SearchRequest,
  deps: { executor?: Executor; machine?: Machine; calibration?: { reference: string; twin: string } } = {},
): Promise<SearchSession> {
  const { plan } = req;
  const { store, unlock } = await openRunForWriting(req);
  const tasksModule = store.config().tasksModule;
  if (tasksModule && req.resume !== undefined) {
    try {
      await taskRegistry(tasksModule);
    } catch (e) {
      store.close();
      unlock();
      throw e;
    }
  }
  let handle: SearchHandle | undefined;
  const early: [LogLevel, string, number | undefined][] = [];
  const batch = store.config().batch;
  const { workers, note } = usefulWorkers(plan.machine.workers, batch, deps.machine);
  if (note) early.push(['warn', note, undefined]);
  if (!deps.executor) {
    try {
      await prepareWorkersBackend(plan.machine.backend);
    } catch (e) {
      store.close();
      unlock();
      throw e;
    }
  }
  const executor =
    deps.executor ??
    new WorkerPool({
      workers,
      timeoutMs: plan.machine.evalTimeout * 1000,
      backend: plan.machine.backend,
      ...(tasksModule ? { tasksModule } : {}),
      onLog: (level, message, worker) => (handle ? handle.log(level, message, worker) : early.push([level, message, worker])),
    });
  // Tests that bring their own executor also bring their own numbers: no reference runs.
  const calibration = deps.calibration ?? (deps.executor ? undefined : referenceSources());
  const registry = await taskRegistry(tasksModule);
  const stored = await storedProgress(store);
  // Reference results are kept on this machine across runs when this machine's workers compute them.
  const referenceCache = deps.executor ? undefined : diskReferenceCache({ backend: plan.machine.backend, ...(tasksModule ? { tasksModule } : {}) });
  handle = startSearch({
    store,
    executor,
    ...(calibration ? { calibration } : {}),
    ...(referenceCache ? { referenceCache } : {}),
    suiteTasks: (suite) => registry.suite(suite).map((t) => t.name),
  });
  const h = handle;
  // After the search's `start` event, so that watchers see it.
  setImmediate(() => early.forEach(([l, m, w]) => h.log(l, m, w)));
  return {
    handle,
    store,
    executor,
    stored,
    finish: async () => {
      await executor.close();
      store.close();
      unlock();
    },
  };
}

export interface SearchCommandOptions extends SearchFlags {
  /** A PostgreSQL store URL (else OPTEVO_STORE, else SQLite under --run-dir). */
  store?: string;
}

async function searchAction(all: SearchCommandOptions): Promise<void> {
  const { store: storeFlag, ...flags } = all;
  // Ctrl-C and SIGTERM work at every moment. Until the search runs they are
  // remembered (a second Ctrl-C quits at once); once it runs, SIGTERM stops
  // it with a checkpoint, and the watcher handles Ctrl-C the same way.
  let handle: SearchHandle | undefined;
  let signalled = 0;
  const onSignal = () => {
    signalled++;
    if (handle) void handle.stop();
    else if (signalled > 1) process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let session: Pick<SearchSession, 'handle' | 'stored' | 'finish'> | undefined;
  try {
    const location = storeOption(storeFlag);
    const plan = planSearch(flags);
    // Loaded before the search starts, so that the watcher sees its first event.
    const { initialFromHandle, watchSearch, shouldUseDashboard } = await import('../tui/watch.js');
    if (signalled) throw new Interrupted();
    session = location
      ? await openPgSearch(location, { plan, seeds: () => resolveSeeds(plan.config.seeds), ...(flags.resume !== undefined ? { resume: flags.resume } : {}) })
      : await openSearch(flags.resume !== undefined ? { plan, resume: flags.resume } : { plan });
    handle = session.handle;
    if (signalled) void handle.stop();
    const h = handle;
    onStdoutClosed(() => void h.stop());
    const dashboard = shouldUseDashboard({ tui: plan.tui });
    // The watcher owns Ctrl-C from here (a second one quits at once).
    process.off('SIGINT', onSignal);
    const stats = await watchSearch(handle, { tui: plan.tui, initial: { ...initialFromHandle(handle), ...session.stored } });
    if (stdoutClosed()) {
      const ref = path.resolve(handle.dir) === path.resolve('runs', handle.run) ? handle.run : handle.dir;
      process.stderr.write(`optevo: stdout was closed: run checkpointed at ${judgedOf(stats.judged, stats.budget)}; resume with: optevo search --resume ${shellQuote(ref)}\n`);
    } else if (dashboard) process.stdout.write(summary(handle, stats) + '\n');
  } catch (e) {
    if (e instanceof SearchFault) throw new UserError(e.message);
    throw asUserError(e);
  } finally {
    onStdoutClosed(null);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (session) {
      await session.handle.stop().catch(() => undefined);
      await session.finish();
    }
  }
}

export function summary(handle: Pick<SearchHandle, 'run' | 'dir'>, s: SearchStats): string {
  const never = s.cached + s.invalid;
  const best = s.bestId === null ? 'no program trained' : `best #${s.bestId} fitness ${s.bestFitness?.toFixed(4)}`;
  return (
    `${s.judged >= s.budget || (s.timeMs !== undefined && s.elapsedMs >= s.timeMs) ? 'done' : 'stopped'}: ${judgedOf(s.judged, s.budget)} children judged ` +
    `(${s.trained} trained, ${s.cached} cached, ${s.invalid} invalid, ${s.failed} failed; ` +
    `${s.judged ? Math.round((100 * never) / s.judged) : 0}% never trained), ${best}; run at ${handle.dir}`
  );
}

export function register(program: Command): void {
  const cmd = program.command('search').description('evolve optimizer programs (regularized evolution, warm-started from seeds)');
  addSettingOptions(cmd, SEARCH_SETTINGS)
    .option('--resume <run>', 'continue a stopped or killed run (a name under --run-dir, or its path)')
    .option('--config <file>', 'JSON file of settings, every flag by its camelCase name; flags override it')
    .option('--store <url>', 'keep the run in PostgreSQL (postgresql://user@host/db?sslmode=...; default $OPTEVO_STORE) and evaluate on `optevo worker` processes anywhere')
    .action(async (opts: SearchCommandOptions) => searchAction(opts));
}

export { MACHINE_KEYS, resolveRunPath };
