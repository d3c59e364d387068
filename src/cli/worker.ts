/**
 * `optevo worker --store URL [--workers N] [--backend B] [--run NAME]`:
 * evaluates jobs of runs kept in PostgreSQL, on this machine, until stopped
 * (Ctrl-C or SIGTERM: jobs in hand are finished and written; a second signal
 * leaves at once, and their leases expire so that others redo them).
 */
import * as os from 'node:os';
import type { Command } from 'commander';
import { BACKEND_NAMES, isBackendName } from '../backend.js';
import { WorkerPool } from '../pool.js';
import { serve } from '../serve.js';
import { UserError } from './errors.js';
import { asUserError } from './pg-search.js';
import { STORE_HELP, storeOption } from './store-option.js';

interface WorkerOptions {
  store?: string;
  workers?: string;
  backend?: string;
  run?: string;
  tasksModule?: string[];
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} expects a whole number of at least 1, not '${v}'`);
  return n;
}

async function workerAction(opts: WorkerOptions): Promise<void> {
  const location = storeOption(opts.store);
  if (!location) throw new UserError('worker needs a PostgreSQL store: give --store postgresql://... or set OPTEVO_STORE');
  const workers = opts.workers === undefined ? Math.max(1, os.availableParallelism?.() ?? os.cpus().length) : positiveInt('--workers', opts.workers);
  if (opts.backend !== undefined && !isBackendName(opts.backend))
    throw new UserError(`--backend: '${opts.backend}' is not a backend (backends: ${BACKEND_NAMES.join(', ')})`);
  let stop!: () => void;
  let abandon!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const abandoned = new Promise<void>((r) => (abandon = r));
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      process.stderr.write('optevo worker: stopping after the jobs in hand (again to leave now)\n');
      stop();
    } else abandon();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await serve({
      location,
      workers,
      ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
      ...(opts.run !== undefined ? { run: opts.run } : {}),
      ...(opts.tasksModule?.length ? { tasksModules: opts.tasksModule } : {}),
      makePool: async (p) => {
        const backend = isBackendName(p.backend) ? p.backend : 'wasm';
        // Fails here, with the reason, if this machine cannot run the run's backend.
        const { initBackend } = await import('../backend.js');
        await initBackend(backend);
        return new WorkerPool({
          workers: p.workers,
          timeoutMs: p.timeoutMs,
          backend,
          ...(p.tasksModule ? { tasksModule: p.tasksModule } : {}),
          onLog: (level, message, worker) => {
            if (level !== 'info') process.stderr.write(`optevo worker: [thread ${worker ?? '?'}] ${message}\n`);
          },
        });
      },
      log: (level, message) => process.stderr.write(`optevo worker: ${level === 'info' ? '' : `${level}: `}${message}\n`),
      stop: stopped,
      abandon: abandoned,
    });
    process.stderr.write(`optevo worker: stopped after ${summary.done} jobs${summary.dropped ? ` (${summary.dropped} late results dropped)` : ''}\n`);
  } catch (e) {
    throw asUserError(e);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('evaluate jobs of runs kept in PostgreSQL, on this machine, until stopped')
    .option('--store <url>', STORE_HELP)
    .option('--workers <n>', 'evaluation threads (default: the number of cores)')
    .option('--backend <name>', `tfjs backend (${BACKEND_NAMES.join(', ')}); default: each run's own; a run on another backend is refused`)
    .option('--run <name>', 'serve this run only (default: every running run)')
    .option('--tasks-module <file...>', "tasks modules on this machine, matched to runs by content (default: the path the run was started with)")
    .action(async (opts: WorkerOptions) => workerAction(opts));
}
