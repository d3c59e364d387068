/**
 * `optevo search --store postgresql://...`: the coordinator of a run kept in
 * PostgreSQL. It breeds, enqueues evaluations as jobs and commits results in
 * child-id order; `optevo worker` processes on any machine evaluate. With
 * `--workers N` given, this process also serves its own run with N threads
 * (one machine, or a coordinator that works too); without it, it evaluates
 * nothing itself.
 */
import * as path from 'node:path';
import type { SearchConfig } from '../../search/config.js';
import { startSearch } from '../../search/evolution.js';
import { referenceSources } from '../reference.js';
import type { SearchHandle } from '../../search/handle.js';
import { Connection, PgStoreError } from '../../search/postgres/connection.js';
import { QueueExecutor } from '../../search/postgres/executor.js';
import { CoordinatorLock } from '../../search/postgres/lock.js';
import { PgRunStore, type RunRequirements } from '../../search/postgres/store.js';
import type { StoreLocation } from '../../search/postgres/url.js';
import { generateRunName } from '../../search/store.js';
import { OPTEVO_VERSION } from '../../search/version.js';
import { isBackendName } from '../backend.js';
import { WorkerPool } from '../pool.js';
import { serve, sha256File } from '../serve.js';
import { UserError } from './errors.js';
import { flagName, SEARCH_KEYS, type SearchPlan } from './search-options.js';
import { taskRegistry } from './task-options.js';
import { errorMessage } from '../../dsl/errors.js';
import type { LogLevel } from '../../search/types.js';
import { storedProgress, type StoredProgress } from './stored-progress.js';

export interface PgSearchSession {
  handle: SearchHandle;
  store: PgRunStore;
  /** What the store held before the search started (a resumed run's leaderboard), for the dashboard. */
  stored: StoredProgress;
  /** Stops local serving, closes the executor, releases the run and the connection. Call after `handle.done` settles. */
  finish(): Promise<void>;
}

/** Store errors are the user's to fix (unreachable server, schema too new, run exists): one line. */
export function asUserError(e: unknown): unknown {
  return e instanceof PgStoreError ? new UserError(e.message) : e;
}

/** A backend every worker can match: `auto` is resolved here, once, and recorded. */
async function concreteBackend(requested: string): Promise<string> {
  if (requested !== 'auto') return requested;
  const { initBackend } = await import('../backend.js');
  return (await initBackend('auto')).name;
}

async function requirementsFor(plan: SearchPlan, config: SearchConfig): Promise<RunRequirements> {
  let tasksModule: RunRequirements['tasksModule'] = null;
  if (config.tasksModule) {
    await taskRegistry(config.tasksModule);
    const sha256 = sha256File(config.tasksModule);
    if (!sha256) throw new UserError(`--tasks-module: cannot read ${config.tasksModule}`);
    tasksModule = { path: path.resolve(config.tasksModule), sha256 };
  }
  return { optevo: OPTEVO_VERSION, backend: await concreteBackend(plan.machine.backend), tasksModule };
}

function checkResumeFlags(plan: SearchPlan, stored: SearchConfig): void {
  for (const key of SEARCH_KEYS) {
    if (key === 'budget' || key === 'time' || !plan.given.has(key)) continue;
    if (JSON.stringify(plan.config[key as keyof SearchConfig]) !== JSON.stringify(stored[key as keyof SearchConfig]))
      throw new UserError(`${flagName(key)} cannot change when resuming: the run keeps its stored settings (only --budget and --time may be given again)`);
  }
  if (plan.given.has('name')) throw new UserError('--name cannot be given with --resume');
}

export async function openPgSearch(
  location: StoreLocation,
  req: { plan: SearchPlan; resume?: string; seeds: () => { name: string; source: string }[] },
): Promise<PgSearchSession> {
  const { plan } = req;
  let handle: SearchHandle | undefined;
  const early: [LogLevel, string][] = [];
  const say = (level: LogLevel, message: string) => (handle ? handle.log(level, message) : early.push([level, message]));
  const db = new Connection(location, { onStatus: (m, level) => say(level, m), applicationName: 'optevo search' });
  const cleanup: (() => Promise<void> | void)[] = [() => db.close()];
  const undo = async () => {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
  };
  try {
    let store: PgRunStore;
    if (req.resume !== undefined) {
      store = await PgRunStore.open(db, req.resume);
      checkResumeFlags(plan, store.config());
      if (plan.given.has('backend') && plan.machine.backend !== 'auto' && plan.machine.backend !== store.requirements().backend)
        throw new UserError(`--backend cannot change when resuming: run '${store.name}' evaluates on ${store.requirements().backend}`);
    } else {
      const seeds = req.seeds();
      const requirements = await requirementsFor(plan, plan.config);
      store = await PgRunStore.create(db, { name: plan.name ?? generateRunName(), config: plan.config, seeds, requirements });
    }
    const lock = await CoordinatorLock.acquire(db, store.id, store.name);
    cleanup.push(() => lock.release());
    if (req.resume !== undefined && plan.given.has('budget') && plan.config.budget !== store.config().budget) {
      const judged = (await store.counters()).committed;
      if (plan.config.budget < judged) throw new UserError(`--budget ${plan.config.budget} is below the ${judged} children this run has judged`);
      await store.setBudget(plan.config.budget);
    }
    if (req.resume !== undefined && plan.given.has('time') && plan.config.time !== store.config().time) await store.setTimeBudget(plan.config.time ?? null);
    const executor = await QueueExecutor.start(db, store, { timeoutMs: plan.machine.evalTimeout * 1000, onLog: say });
    cleanup.push(() => executor.close());

    // Local threads serving this run, when asked for.
    let stopLocal: () => void = () => {};
    let local: Promise<unknown> = Promise.resolve();
    if (plan.given.has('workers')) {
      // When the search ends, local threads leave at once: what they hold is redone on resume.
      const stop = new Promise<void>((r) => (stopLocal = r));
      const reqs = store.requirements();
      local = serve({
        location,
        workers: plan.machine.workers,
        run: store.name,
        makePool: async (p) =>
          new WorkerPool({
            workers: p.workers,
            timeoutMs: p.timeoutMs,
            backend: isBackendName(p.backend) ? p.backend : 'wasm',
            ...(p.tasksModule ? { tasksModule: p.tasksModule } : {}),
            onLog: (level, message, worker) => handle?.log(level, message, worker),
          }),
        ...(reqs.tasksModule ? { tasksModules: [reqs.tasksModule.path] } : {}),
        log: (level, message) => {
          if (level !== 'info') say(level, message);
        },
        stop,
        abandon: stop,
      }).catch((e: unknown) => say('error', `local worker: ${errorMessage(e)}`));
      cleanup.push(async () => {
        stopLocal();
        await local;
      });
    } else {
      early.push(['info', `run ${store.name} at ${db.display}: start workers with  optevo worker --store URL  (or give --workers to evaluate here too)`]);
    }

    const registry = await taskRegistry(store.config().tasksModule);
    const stored = await storedProgress(store);
    handle = startSearch({ store, executor, calibration: referenceSources(), suiteTasks: (suite) => registry.suite(suite).map((t) => t.name) });
    const h = handle;
    setImmediate(() => early.splice(0).forEach(([l, m]) => h.log(l, m)));
    void lock.lost.then((why) => {
      h.log('error', why);
      void h.stop();
    });
    return {
      handle,
      store,
      stored,
      finish: async () => {
        // Local serving first: its threads finish what they took while the executor still listens.
        await undo();
      },
    };
  } catch (e) {
    await undo();
    throw asUserError(e);
  }
}
