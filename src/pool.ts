/**
 * The local executor: a piscina pool of worker threads (src/worker.ts, built
 * to dist/src/worker.js), each with its own tfjs engine, started once.
 *
 * - `minThreads = maxThreads = workers` and a long idle time-out: workers are
 *   never re-initialised between jobs.
 * - Jobs wait in this pool's own queue until a thread is free, and the time
 *   limit starts when the worker reports that it began the job (a worker
 *   still starting up does not eat into it); at the limit the job is
 *   aborted, which terminates its worker, and piscina starts a fresh one.
 * - A worker that dies (a crash, `process.exit`, out of memory) fails its job
 *   with `crashed: true`; the search retries such a job once.
 * - Workers' console output arrives as messages and goes to `onLog`.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { EvalJob, EvalOutcome, EvalProgress, Executor, LogLevel, SuiteResult } from '../search/types.js';
import type { BackendName } from './backend.js';
import type { WorkerData, WorkerLog, WorkerProgress, WorkerStarted } from './worker.js';
import { errorMessage } from '../dsl/errors.js';

export interface PoolOptions {
  workers: number;
  /** Milliseconds an evaluation may run. */
  timeoutMs: number;
  backend?: BackendName;
  /** A user's tasks module each worker loads (defineTask exports). */
  tasksModule?: string;
  /** The worker file (default: the built src/worker.js); tests pass their own. */
  filename?: string;
  onLog?: (level: LogLevel, message: string, worker?: number) => void;
  /** Extra time a job may wait for a worker to start up and take it (default 120 s). */
  startupMs?: number;
  /** Time limit of meta-validation jobs, whose tasks are larger (default 4 x timeoutMs). */
  metavalTimeoutMs?: number;
}

/** The built worker file, whether this module runs from dist/ or from source (vitest). */
export function defaultWorkerFile(): string {
  // Tests of the whole CLI (signals, pipes, locks) swap the evaluation for a fast stand-in.
  const override = process.env.OPTEVO_WORKER_FILE;
  if (override) return override;
  const candidates = [new URL('./worker.js', import.meta.url), new URL('../dist/src/worker.js', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`the worker file is missing (${candidates.map((c) => fileURLToPath(c)).join(' or ')}); run 'npm run build'`);
}

export class WorkerPool implements Executor {
  readonly size: number;
  private readonly pool: Piscina;
  private readonly timeoutMs: number;
  private running = 0;
  /** Jobs waiting for a slot: `true` hands them one, `false` cancels them. */
  private readonly waiting: ((go: boolean) => void)[] = [];
  private readonly urgentWaiting = new WeakSet<(go: boolean) => void>();
  private closed = false;
  private seq = 0;
  /** Jobs submitted and not yet started by a worker: token -> start of their time limit. */
  private readonly started = new Map<number, () => void>();
  private readonly startupMs: number;
  private readonly metavalTimeoutMs: number;
  /** Jobs a worker has begun: token -> where it stands. */
  private readonly progress = new Map<number, { job: EvalJob; since: number; task: string | null; lrs: number[]; step: number; steps: number }>();

  constructor(opts: PoolOptions) {
    if (!(opts.workers >= 1)) throw new Error('a pool needs at least one worker');
    this.size = opts.workers;
    this.timeoutMs = opts.timeoutMs;
    this.startupMs = opts.startupMs ?? 120_000;
    this.metavalTimeoutMs = opts.metavalTimeoutMs ?? 4 * opts.timeoutMs;
    const workerData: WorkerData = { backend: opts.backend ?? 'auto', ...(opts.tasksModule ? { tasksModule: opts.tasksModule } : {}) };
    this.pool = new Piscina({
      filename: opts.filename ?? defaultWorkerFile(),
      minThreads: opts.workers,
      maxThreads: opts.workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: 24 * 3600 * 1000,
      workerData,
    });
    const onLog = opts.onLog ?? (() => {});
    this.pool.on('message', (m: unknown) => {
      const w = m as Partial<WorkerLog | WorkerStarted | WorkerProgress>;
      if (w?.type === 'log' && typeof w.message === 'string') onLog(w.level ?? 'info', w.message, w.worker);
      else if (w?.type === 'started' && typeof w.token === 'number') this.started.get(w.token)?.();
      else if (w?.type === 'progress' && typeof w.token === 'number') {
        const p = this.progress.get(w.token);
        if (p) Object.assign(p, { task: w.task ?? null, lrs: w.lrs ?? [], step: w.step ?? 0, steps: w.steps ?? 0 });
      }
    });
    // A worker fault outside any job: report it, never let it crash the process.
    this.pool.on('error', (e: unknown) => onLog('error', `worker fault: ${errorMessage(e)}`));
  }

  busy(): number {
    return this.running;
  }

  inProgress(): EvalProgress[] {
    const now = Date.now();
    return [...this.progress.values()].map((p) => ({
      childId: p.job.childId,
      suite: p.job.suite,
      task: p.task,
      lrs: p.lrs,
      step: p.step,
      steps: p.steps,
      ms: now - p.since,
    }));
  }

  /** Waits for a free worker: true once it has one, false when cancelled (see cancelQueued). Urgent jobs go first. */
  private async slot(urgent: boolean): Promise<boolean> {
    if (this.running < this.size) {
      this.running++;
      return true;
    }
    // Given true, the releasing job handed its slot over: `running` is unchanged.
    return new Promise<boolean>((r) => {
      if (!urgent) return this.waiting.push(r);
      // Behind the urgent jobs already waiting, ahead of the rest.
      const i = this.waiting.findIndex((w) => !this.urgentWaiting.has(w));
      this.urgentWaiting.add(r);
      this.waiting.splice(i < 0 ? this.waiting.length : i, 0, r);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.running--;
  }

  cancelQueued(): void {
    for (const w of this.waiting.splice(0)) w(false);
  }

  async evaluate(job: EvalJob): Promise<EvalOutcome> {
    if (this.closed) return { ok: false, reason: 'the pool is closed', crashed: true };
    if (!(await this.slot(job.urgent === true))) return { ok: false, reason: 'cancelled before it started', cancelled: true };
    if (this.closed) {
      this.release();
      return { ok: false, reason: 'the pool is closed', crashed: true };
    }
    const ac = new AbortController();
    const token = ++this.seq;
    const limit = Math.min(job.suite === 'metaval' ? this.metavalTimeoutMs : this.timeoutMs, job.limitMs ?? Infinity);
    let timedOut: 'start' | 'run' | null = null;
    // Until the worker says it started the job, only the (long) start-up allowance runs:
    // a worker still booting, after a crash or on a loaded machine, is not the job's fault.
    let timer = setTimeout(() => {
      timedOut = 'start';
      ac.abort();
    }, this.startupMs + limit);
    this.started.set(token, () => {
      this.progress.set(token, { job, since: Date.now(), task: null, lrs: [], step: 0, steps: 0 });
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = 'run';
        ac.abort();
      }, limit);
    });
    try {
      const task: EvalJob & { token: number } = { ...job, token };
      const result = (await this.pool.run(task, { signal: ac.signal })) as SuiteResult;
      return { ok: true, result };
    } catch (e) {
      const msg = errorMessage(e).split('\n')[0]!;
      const since = this.progress.get(token)?.since;
      const ran = since === undefined ? {} : { ms: Date.now() - since };
      if (timedOut === 'run') return { ok: false, reason: `timed out after ${fmtSeconds(limit)}`, timedOut: true, ...ran };
      if (timedOut === 'start') return { ok: false, reason: `no worker started the job within ${fmtSeconds(this.startupMs + limit)}`, timedOut: true };
      if (this.closed) return { ok: false, reason: 'the pool is closed', crashed: true };
      if (/worker exited|terminated|ERR_WORKER/i.test(msg)) return { ok: false, reason: msg, crashed: true, ...ran };
      return { ok: false, reason: msg, ...ran };
    } finally {
      clearTimeout(timer);
      this.started.delete(token);
      this.progress.delete(token);
      this.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(true);
    await this.pool.destroy();
  }
}

function fmtSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
