/**
 * The piscina worker: one per thread. It initialises tfjs once (the backend
 * named in workerData), then evaluates one job at a time: parse the source,
 * train on the suite, return a SuiteResult. Nothing in a job's source is run
 * as JavaScript.
 *
 * Workers never write to the console: the dashboard owns the screen. Anything
 * printed here (tfjs notices included) goes to the main thread as a
 * `{ type: 'log' }` message, which the pool hands to its listener.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import type { EvalJob, LogLevel, SuiteResult } from '../search/types.js';
import { initBackend, isBackendName, type BackendName } from './backend.js';
import { DEFAULT_LRS, evaluateJob } from './evaluate.js';
import { registryWithModule } from './tasks/define.js';

export interface WorkerData {
  backend: BackendName;
  /** A user's tasks module, loaded once per worker. */
  tasksModule?: string;
}

/** Sent when a job begins: the pool starts its time limit then. */
export interface WorkerStarted {
  type: 'started';
  token: number;
}

/** Where a job stands: sent when a task or rate group begins, and at most every PROGRESS_MS. */
export interface WorkerProgress {
  type: 'progress';
  token: number;
  task: string;
  lrs: number[];
  step: number;
  steps: number;
}

const PROGRESS_MS = 250;

export interface WorkerLog {
  type: 'log';
  level: LogLevel;
  message: string;
  worker: number;
}

function send(level: WorkerLog['level'], args: unknown[]): void {
  const message = args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : safeString(a))).join(' ');
  const m: WorkerLog = { type: 'log', level, message, worker: threadId };
  parentPort?.postMessage(m);
}

function safeString(a: unknown): string {
  try {
    return typeof a === 'object' ? JSON.stringify(a) : String(a);
  } catch {
    return String(a);
  }
}

console.log = (...a: unknown[]) => send('info', a);
console.info = (...a: unknown[]) => send('info', a);
console.debug = () => {};
console.warn = (...a: unknown[]) => send('warn', a);
console.error = (...a: unknown[]) => send('error', a);
for (const [stream, level] of [
  [process.stdout, 'info'],
  [process.stderr, 'warn'],
] as const) {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    if (text.trim()) send(level, [text.trimEnd()]);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof stream.write;
}

const data = (workerData ?? {}) as Partial<WorkerData>;
const backend: BackendName = data.backend && isBackendName(data.backend) ? data.backend : 'auto';

/** piscina awaits this: the tfjs engine starts once, before the first job. */
export default (async () => {
  await initBackend(backend);
  const registry = data.tasksModule ? await registryWithModule(data.tasksModule) : undefined;
  return async (task: EvalJob & { token?: number }): Promise<SuiteResult> => {
    const { token, ...job } = task;
    if (token !== undefined) parentPort?.postMessage({ type: 'started', token } satisfies WorkerStarted);
    let last = -Infinity;
    let group = '';
    const progress =
      token === undefined
        ? undefined
        : (p: { task: string; lrs: readonly number[]; step: number; steps: number }) => {
            const t = performance.now();
            const g = `${p.task}:${p.lrs.join(',')}`;
            if (g === group && t - last < PROGRESS_MS) return;
            last = t;
            group = g;
            parentPort?.postMessage({ type: 'progress', token, task: p.task, lrs: [...p.lrs], step: p.step, steps: p.steps } satisfies WorkerProgress);
          };
    return evaluateJob({ ...job, lrs: job.lrs.length ? job.lrs : [...DEFAULT_LRS] }, backend, registry, progress);
  };
})();
