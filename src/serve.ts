/**
 * `optevo worker`: serves evaluation jobs from a PostgreSQL store, on any
 * machine, until stopped.
 *
 * - Serves every running run, or one (`run`). Each run states what its
 *   evaluations need (optevo version, backend, tasks module by content
 *   hash); a worker that cannot match refuses the run with one line, on its
 *   own stderr and in the run's log, and takes none of its jobs.
 * - Takes at most as many jobs as it has free threads, evaluates them in
 *   its own pool (piscina threads running program text, as locally) and
 *   writes each result under its lease (search/postgres/queue.ts).
 * - Registers itself in `workers` and beats every few seconds, so the
 *   coordinator's dashboard counts it.
 * - Keeps going through server restarts and network cuts (reconnecting
 *   with backoff); a result whose lease expired meanwhile is dropped.
 * - Its commits (taking jobs, writing results) do not wait for the server's
 *   disk flush: a server crash may lose the last of them, which only sends
 *   those jobs round again (a lost fetch leaves the job queued, a lost result
 *   leaves it leased until it expires). A coordinator that read a result and
 *   committed its child made the result durable with it: the server's log
 *   is flushed in order.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type PgBoss from 'pg-boss';
import { Connection, errorText } from '../search/postgres/connection.js';
import { ensureQueue, JOBS_CHANNEL, JobPayloadSchema, queueName, startBoss, writeResults, type Finished, type JobAddress, type JobPayload, type Lease, jobAddress } from '../search/postgres/queue.js';
import { ensureSchema } from '../search/postgres/schema.js';
import { RequirementsSchema, type RunRequirements } from '../search/postgres/store.js';
import type { StoreLocation } from '../search/postgres/url.js';
import type { EvalJob, EvalOutcome, Executor, LogLevel } from '../search/types.js';
import { OPTEVO_VERSION } from '../search/version.js';

export interface ServeOptions {
  location: StoreLocation;
  /** Evaluation threads (jobs at a time). */
  workers: number;
  /** The backend asked for on the command line; absent: each run's own. */
  backend?: string;
  /** Serve this run only. */
  run?: string;
  /** Tasks module files this machine offers, matched to runs by content hash. */
  tasksModules?: string[];
  /** Makes the pool that evaluates a run's jobs (tests and benchmarks pass their own). */
  makePool: (p: { backend: string; tasksModule?: string; workers: number; timeoutMs: number }) => Promise<Executor>;
  /** Lines for the operator (stderr). */
  log: (level: LogLevel, message: string) => void;
  /** Resolves when the worker should stop taking jobs; those it holds are finished and written. */
  stop: Promise<void>;
  /** Resolves when the worker should leave at once: results of jobs it holds are not written (their leases expire and others redo them). */
  abandon?: Promise<void>;
  /** Seconds between looks for new runs and jobs when idle and no notification comes (default 2). */
  idlePollSeconds?: number;
  /** How often pg-boss's maintenance (lease expiry) may run from this worker (s, default 5). */
  maintenanceSeconds?: number;
  /** Version reported and compared (tests pass another). */
  version?: string;
}

export interface ServeSummary {
  done: number;
  dropped: number;
}

export function sha256File(file: string): string | null {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

interface Served {
  runId: number;
  name: string;
  queue: string;
  backend: string;
  tasksModule: string | undefined;
}

const sleep = (ms: number, stop: Promise<void>) =>
  Promise.race([new Promise<void>((r) => setTimeout(r, ms)), stop]);

/**
 * Why this worker cannot serve a run, or null. `tasksModule` gets the local
 * file that matches the run's module.
 */
export function refusal(req: RunRequirements, opts: Pick<ServeOptions, 'backend' | 'tasksModules' | 'version'>, found: { tasksModule?: string }): string | null {
  const version = opts.version ?? OPTEVO_VERSION;
  if (req.optevo !== version) return `its optevo version ${req.optevo} differs from this worker's ${version}`;
  if (opts.backend !== undefined && opts.backend !== 'auto' && opts.backend !== req.backend)
    return `its backend ${req.backend} differs from this worker's --backend ${opts.backend}`;
  if (req.tasksModule) {
    const candidates = [...(opts.tasksModules ?? []), req.tasksModule.path];
    const match = candidates.find((f) => sha256File(f) === req.tasksModule!.sha256);
    if (!match)
      return `its tasks module (sha256 ${req.tasksModule.sha256.slice(0, 12)}, ${path.basename(req.tasksModule.path)}) is not on this machine (looked at ${candidates.join(', ')}; give it with --tasks-module FILE)`;
    found.tasksModule = match;
  }
  return null;
}

export async function serve(opts: ServeOptions): Promise<ServeSummary> {
  const me = `${os.hostname()}:${process.pid}`;
  const id = randomUUID();
  const db = new Connection(opts.location, {
    retryForMs: Number.POSITIVE_INFINITY,
    max: Math.max(4, opts.workers + 2),
    applicationName: `optevo worker ${me}`,
    asyncCommit: true,
    onStatus: (m, level) => opts.log(level, m),
  });
  const summary: ServeSummary = { done: 0, dropped: 0 };
  const pools = new Map<string, Promise<Executor>>();
  const served = new Map<string, Served>();
  const refused = new Map<string, string>();
  let stopping = false;
  let abandoning = false;
  void opts.stop.then(() => (stopping = true));
  void opts.abandon?.then(() => {
    stopping = true;
    abandoning = true;
  });
  let boss: PgBoss | undefined;
  let listener: import('pg').Client | undefined;
  let beat: NodeJS.Timeout | undefined;
  let running = 0;
  const inflight = new Set<Promise<void>>();
  try {
    await ensureSchema(db, 'write');
    boss = await startBoss(db, {
      supervise: true,
      maintenanceSeconds: opts.maintenanceSeconds ?? 5,
      onError: (e) => opts.log('warn', `job queue: ${errorText(e)}`),
    });
    const s = db.location.schema;
    await db.query(`INSERT INTO ${s}.workers (id, host, pid, threads, backend, optevo, run) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      id,
      os.hostname(),
      process.pid,
      opts.workers,
      opts.backend ?? 'run',
      opts.version ?? OPTEVO_VERSION,
      opts.run ?? null,
    ]);
    beat = setInterval(() => {
      db.query(`UPDATE ${s}.workers SET seen_at = now(), busy = $2, done = $3 WHERE id = $1`, [id, running, summary.done]).catch(() => undefined);
    }, 5000);
    beat.unref();
    opts.log('info', `worker ${me} serving ${opts.run ? `run ${opts.run}` : 'every running run'} at ${db.display} with ${opts.workers} thread${opts.workers === 1 ? '' : 's'}`);

    const poolFor = (backend: string, tasksModule: string | undefined, timeoutMs: number): Promise<Executor> => {
      const key = `${backend}\0${tasksModule ?? ''}`;
      let p = pools.get(key);
      if (!p) {
        p = opts.makePool({ backend, workers: opts.workers, timeoutMs, ...(tasksModule ? { tasksModule } : {}) });
        pools.set(key, p);
      }
      return p;
    };

    /** The runs to take jobs from now, refusals reported once per run. */
    const refreshRuns = async (): Promise<Served[]> => {
      const r = await db.query<{ id: number; name: string; requirements: unknown; timeout: unknown }>(
        `SELECT id, name, requirements FROM ${s}.runs WHERE status = 'running' ${opts.run ? 'AND name = $1' : ''} ORDER BY id`,
        opts.run ? [opts.run] : [],
      );
      const out: Served[] = [];
      for (const row of r.rows) {
        if (refused.has(row.name)) continue;
        let srv = served.get(row.name);
        if (!srv) {
          const req = RequirementsSchema.safeParse(row.requirements);
          const found: { tasksModule?: string } = {};
          const why = req.success ? refusal(req.data, opts, found) : 'its requirements are unreadable';
          if (why !== null) {
            refused.set(row.name, why);
            const line = `worker ${me} refuses run ${row.name}: ${why}`;
            opts.log('error', line);
            await db.query(`INSERT INTO ${s}.log (run_id, level, message) VALUES ($1, 'error', $2)`, [row.id, line]).catch(() => undefined);
            continue;
          }
          await ensureQueue(boss!, row.id);
          srv = { runId: row.id, name: row.name, queue: queueName(row.id), backend: req.success ? req.data.backend : 'wasm', tasksModule: found.tasksModule };
          served.set(row.name, srv);
        }
        out.push(srv);
      }
      return out;
    };

    // Results finished together are written together: one transaction for the lot.
    let outbox: { item: Finished; done: (written: boolean) => void }[] = [];
    let writing = false;
    const flushWrites = async (): Promise<void> => {
      if (writing) return;
      writing = true;
      try {
        while (outbox.length) {
          const batch = outbox;
          outbox = [];
          const written = await writeResults(db, batch.map((b) => b.item), me).catch((e: unknown) => {
            opts.log('warn', `${batch.length} results not written: ${errorText(e)}`);
            return new Set<string>();
          });
          for (const b of batch) b.done(written.has(b.item.lease.jobId));
        }
      } finally {
        writing = false;
      }
    };
    const write = (item: Finished): Promise<boolean> =>
      new Promise((done) => {
        outbox.push({ item, done });
        setImmediate(() => void flushWrites());
      });

    const runJob = async (srv: Served, job: { id: string; data: unknown; retryCount?: number; retry_count?: number }): Promise<void> => {
      const lease: Lease = { jobId: job.id, queue: srv.queue, retryCount: Number(job.retryCount ?? job.retry_count ?? 0) };
      const parsed = JobPayloadSchema.safeParse(job.data);
      let outcome: EvalOutcome;
      let payload: JobPayload | undefined;
      let address: JobAddress | null = null;
      if (!parsed.success || parsed.data.runId !== srv.runId) {
        const issue = parsed.success ? undefined : parsed.error.issues[0];
        const why = parsed.success ? 'wrong run' : issue ? `${issue.path.join('.')}: ${issue.message}` : 'unreadable';
        outcome = { ok: false, reason: `malformed job ${job.id} (worker ${me}, optevo ${OPTEVO_VERSION}): ${why}` };
        const a = jobAddress(job.data);
        if (a !== null && a.runId === srv.runId) address = a;
      } else {
        payload = parsed.data as JobPayload;
        const why = refusal(payload.requirements, opts, {});
        if (why !== null) outcome = { ok: false, reason: `refused by worker ${me}: ${why}` };
        else {
          // The pool enforces the run's time limit (meta-validation jobs get 4 times the base, as locally).
          const base = payload.job.suite === 'metaval' ? payload.timeoutMs / 4 : payload.timeoutMs;
          const pool = await poolFor(srv.backend, srv.tasksModule, base);
          outcome = await evaluateWithin(pool, payload.job, payload.timeoutMs + 60_000);
        }
      }
      if (abandoning) return;
      if (!payload && !address) {
        await boss!.fail(srv.queue, job.id, { reason: 'malformed job' }).catch(() => undefined);
        return;
      }
      const to = payload ?? address!;
      if (!payload && !outcome.ok) opts.log('error', outcome.reason);
      const written = await write({ lease, payload: to, outcome });
      if (written) summary.done++;
      else {
        summary.dropped++;
        opts.log('warn', `late result of child ${to.job.childId} (${to.job.suite}) of run ${srv.name} dropped: its lease expired and the job went to another worker`);
      }
    };

    // Enqueued jobs wake an idle worker at once (LISTEN); the idle poll is the fallback.
    const wake = wakeUp();
    const listen = async (): Promise<void> => {
      if (stopping) return;
      try {
        const c = await db.dedicated();
        c.on('notification', () => wake.fire());
        c.on('error', () => {
          c.end().catch(() => undefined);
          if (!stopping) setTimeout(() => void listen(), 1000);
        });
        await c.query(`LISTEN ${JOBS_CHANNEL}_${s}`);
        listener = c;
      } catch {
        if (!stopping) setTimeout(() => void listen(), 1000);
      }
    };
    await listen();

    let turn = 0;
    let lastRefresh = 0;
    let runs: Served[] = [];
    while (!stopping) {
      if (Date.now() - lastRefresh > 2000 || runs.length === 0) {
        try {
          runs = await refreshRuns();
        } catch (e) {
          opts.log('warn', `listing runs: ${errorText(e)}`);
        }
        lastRefresh = Date.now();
      }
      const free = opts.workers - running;
      let took = 0;
      if (free > 0 && runs.length) {
        // Round robin over the runs, starting one further each time.
        for (let k = 0; k < runs.length && took < free && !stopping; k++) {
          const srv = runs[(turn + k) % runs.length]!;
          let jobs: { id: string; data: unknown; retryCount?: number }[] = [];
          try {
            jobs = (await boss.fetch(srv.queue, { batchSize: free - took, includeMetadata: true })) as unknown as typeof jobs;
          } catch (e) {
            // Lost connections are retried inside; anything else (a query cancelled, a queue dropped with its
            // run) costs this turn only: the worker keeps serving.
            opts.log('warn', `taking jobs of run ${srv.name}: ${errorText(e)}`);
            lastRefresh = 0;
            await sleep(1000, opts.stop);
            continue;
          }
          for (const j of jobs ?? []) {
            took++;
            running++;
            const p = runJob(srv, j).finally(() => {
              running--;
              inflight.delete(p);
            });
            inflight.add(p);
          }
        }
        turn++;
      }
      if (took === 0) {
        // Idle or full: wait for a thread to free up or for new jobs.
        await Promise.race([sleep((opts.idlePollSeconds ?? 2) * 1000, opts.stop), wake.promise, ...(free <= 0 ? [Promise.race(inflight)] : [])]);
        wake.reset();
      }
    }
    // Finish what was taken: its results are still wanted (unless abandoning).
    if (!abandoning) await Promise.all(inflight);
    return summary;
  } finally {
    if (beat) clearInterval(beat);
    await listener?.end().catch(() => undefined);
    await db.query(`DELETE FROM ${db.location.schema}.workers WHERE id = $1`, [id]).catch(() => undefined);
    await boss?.stop({ graceful: false, close: false, wait: true }).catch(() => undefined);
    for (const p of pools.values()) await p.then((x) => x.close()).catch(() => undefined);
    await db.close();
  }
}

/** A promise that a notification fulfils, renewed after each wait. */
function wakeUp(): { promise: Promise<void>; fire(): void; reset(): void } {
  let fire!: () => void;
  const w = {
    promise: Promise.resolve(),
    fire: () => fire(),
    reset: () => {
      w.promise = new Promise<void>((r) => (fire = r));
    },
  };
  w.reset();
  return w;
}

/** The job, with a last-resort limit in case its pool never answers (the pool's own limit comes first). */
async function evaluateWithin(pool: Executor, job: EvalJob, timeoutMs: number): Promise<EvalOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<EvalOutcome>((r) => {
    timer = setTimeout(() => r({ ok: false, reason: `timed out after ${Math.round(timeoutMs / 1000)} s`, timedOut: true }), timeoutMs);
  });
  try {
    return await Promise.race([pool.evaluate(job).catch((e: unknown) => ({ ok: false as const, reason: errorText(e), crashed: true })), limit]);
  } finally {
    clearTimeout(timer);
  }
}
