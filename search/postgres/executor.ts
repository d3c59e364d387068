/**
 * The coordinator's executor for runs across machines: each evaluation the
 * search asks for becomes a pg-boss job; `optevo worker` processes anywhere
 * take the jobs and write results; this executor hands each result back to
 * the search, which commits children in id order as with the local pool.
 *
 * - Jobs bred together are inserted together (one statement per turn of the
 *   event loop).
 * - Results arrive by LISTEN/NOTIFY, with polling as the fallback (a lost
 *   notification during a reconnect only delays a result).
 * - A job pg-boss failed for good (its lease expired LEASE_RETRIES + 1
 *   times: workers keep dying on it) comes back as a failed evaluation.
 * - The same evaluation asked again (the search retries a crashed one) is a
 *   new attempt, hence a new job; a resumed coordinator asks the same
 *   attempts again and reuses jobs and results already in the store.
 */
import type PgBoss from 'pg-boss';
import type { EvalJob, EvalOutcome, Executor, LogLevel } from '../types.js';
import type { Connection } from './connection.js';
import { errorText } from './connection.js';
import { ensureQueue, jobId, jobVariant, JOBS_CHANNEL, LEASE_RETRIES, NOTIFY_CHANNEL, parseOutcome, queueName, startBoss, type JobPayload } from './queue.js';
import type { PgRunStore } from './store.js';

export interface QueueExecutorOptions {
  /** Time limit of one evaluation on a worker (ms). */
  timeoutMs: number;
  /** Time limit of meta-validation jobs (default 4 x timeoutMs). */
  metavalTimeoutMs?: number;
  /** Lease margin over the time limit, for a worker to start the job and write its result (default 30 s). */
  leaseMarginMs?: number;
  /** How often pg-boss checks for expired leases (s, default 5). */
  maintenanceSeconds?: number;
  /** Polling interval when no notification comes (ms, default 1000). */
  pollMs?: number;
  onLog?: (level: LogLevel, message: string) => void;
}

interface Waiting {
  id: string;
  resolve: (o: EvalOutcome) => void;
  /** When the job may be considered lost if it has no result (ms since epoch). */
  checkAfter: number;
}

export class QueueExecutor implements Executor {
  private readonly db: Connection;
  private readonly store: PgRunStore;
  private readonly boss: PgBoss;
  private readonly opts: Required<Omit<QueueExecutorOptions, 'onLog'>> & { onLog: QueueExecutorOptions['onLog'] };
  private readonly queue: string;
  private readonly attempts = new Map<string, number>();
  private readonly waiting = new Map<string, Waiting>();
  private outbox: { id: string; payload: JobPayload; expireInSeconds: number; priority: number }[] = [];
  private flushing: Promise<void> | null = null;
  private workers = 0;
  private active = 0;
  private closed = false;
  private listener: import('pg').Client | null = null;
  private timers: NodeJS.Timeout[] = [];
  private polling = false;
  private pollAgain = false;

  private constructor(db: Connection, store: PgRunStore, boss: PgBoss, opts: QueueExecutorOptions) {
    this.db = db;
    this.store = store;
    this.boss = boss;
    this.opts = {
      timeoutMs: opts.timeoutMs,
      metavalTimeoutMs: opts.metavalTimeoutMs ?? 4 * opts.timeoutMs,
      leaseMarginMs: opts.leaseMarginMs ?? 30_000,
      maintenanceSeconds: opts.maintenanceSeconds ?? 5,
      pollMs: opts.pollMs ?? 1000,
      onLog: opts.onLog,
    };
    this.queue = queueName(store.id);
  }

  static async start(db: Connection, store: PgRunStore, opts: QueueExecutorOptions): Promise<QueueExecutor> {
    const boss = await startBoss(db, {
      supervise: true,
      maintenanceSeconds: opts.maintenanceSeconds ?? 5,
      onError: (e) => opts.onLog?.('warn', `job queue: ${errorText(e)}`),
    });
    await ensureQueue(boss, store.id);
    // Jobs cancelled at an earlier coordinator's deadline (cancelQueued): the resumed run asks for the
    // same jobs again, and pg-boss's insert keeps the cancelled row, which no worker would ever fetch.
    await db.query(`UPDATE ${db.location.queueSchema}.job SET state = 'created', completed_on = NULL WHERE name = $1 AND state = 'cancelled'`, [
      queueName(store.id),
    ]);
    const ex = new QueueExecutor(db, store, boss, opts);
    await ex.listen();
    await ex.refreshWorkers();
    ex.timers.push(setInterval(() => void ex.poll(), ex.opts.pollMs));
    ex.timers.push(setInterval(() => void ex.refreshWorkers().then(() => ex.checkLost()), 2000));
    for (const t of ex.timers) t.unref();
    return ex;
  }

  /** Worker threads serving this run now (workers seen in the last 15 s). */
  get size(): number {
    return this.workers;
  }

  busy(): number {
    return this.active;
  }

  evaluate(job: EvalJob): Promise<EvalOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'the executor is closed', crashed: true });
    const variant = jobVariant(job);
    const key = `${job.childId}/${job.suite}${variant}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const id = jobId(this.store.id, job.childId, job.suite, attempt, variant);
    const timeoutMs = Math.min(job.suite === 'metaval' ? this.opts.metavalTimeoutMs : this.opts.timeoutMs, job.limitMs ?? Infinity);
    const leaseMs = timeoutMs + this.opts.leaseMarginMs;
    const payload: JobPayload = {
      v: 1,
      run: this.store.name,
      runId: this.store.id,
      attempt,
      timeoutMs,
      requirements: this.store.requirements(),
      job,
    };
    return new Promise<EvalOutcome>((resolve) => {
      this.waiting.set(id, { id, resolve, checkAfter: Date.now() + leaseMs + 5_000 });
      this.outbox.push({ id, payload, expireInSeconds: Math.ceil(leaseMs / 1000), priority: job.urgent === true ? 1 : 0 });
      if (!this.flushing) this.flushing = new Promise<void>((r) => setImmediate(r)).then(() => this.flush());
    });
  }

  /** Inserts the jobs bred since the last flush, then looks for results they may already have. */
  private async flush(): Promise<void> {
    const batch = this.outbox;
    this.outbox = [];
    this.flushing = null;
    if (batch.length === 0 || this.closed) return;
    try {
      // Urgent jobs (references, a would-be best's re-evaluation) are fetched first: workers take by priority.
      await this.boss.insert(
        batch.map((b) => ({
          id: b.id,
          name: this.queue,
          data: b.payload,
          expireInSeconds: b.expireInSeconds,
          retryLimit: LEASE_RETRIES,
          retryDelay: 0,
          priority: b.priority,
        })),
      );
      await this.db.query('SELECT pg_notify($1, $2)', [`${JOBS_CHANNEL}_${this.db.location.schema}`, String(this.store.id)]);
      await this.collect(batch.map((b) => b.id));
    } catch (e) {
      if (this.closed) return;
      // The connection gave up (minutes without the server): fail these evaluations as crashed; the search retries once.
      this.opts.onLog?.('error', `cannot enqueue ${batch.length} jobs: ${errorText(e)}`);
      for (const b of batch) this.settle(b.id, { ok: false, reason: `cannot enqueue: ${errorText(e)}`, crashed: true });
    }
  }

  private settle(id: string, outcome: EvalOutcome): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    w.resolve(outcome);
  }

  /**
   * Reads the results of these jobs and hands them to their waiters. By job
   * id, not by "newer than the last seen": sequence numbers are taken at
   * insert and committed in another order, so a later one can be seen first.
   */
  private async collect(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const r = await this.db.query<{ job_id: string; outcome: string; worker: string }>(
      `SELECT job_id::text, outcome, worker FROM ${this.db.location.schema}.results WHERE job_id = ANY($1::uuid[])`,
      [ids],
    );
    for (const row of r.rows) {
      if (!this.waiting.has(row.job_id)) continue;
      const outcome = parseOutcome(String(row.outcome));
      this.settle(
        row.job_id,
        outcome ?? { ok: false, reason: `unreadable result from worker ${String(row.worker).slice(0, 80)}`, crashed: true },
      );
    }
  }

  private async poll(): Promise<void> {
    if (this.closed || this.waiting.size === 0) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        await this.collect([...this.waiting.keys()]);
      } while (this.pollAgain && !this.closed);
    } catch (e) {
      if (!this.closed) this.opts.onLog?.('warn', `reading results: ${errorText(e)}`);
    } finally {
      this.polling = false;
    }
  }

  private async listen(): Promise<void> {
    try {
      const c = await this.db.dedicated();
      c.on('notification', (n) => {
        // `RUN:ID,ID,...` names the jobs with new results; `RUN` alone means "look at all yours".
        const [run, ids] = (n.payload ?? '').split(':');
        if (run !== String(this.store.id)) return;
        if (ids) void this.collect(ids.split(',').filter((id) => this.waiting.has(id))).catch(() => void this.poll());
        else void this.poll();
      });
      c.on('error', () => {
        // Reconnect the listener later; polling carries on meanwhile.
        this.listener = null;
        c.end().catch(() => undefined);
        if (!this.closed) setTimeout(() => void this.listen(), 1000).unref();
      });
      await c.query(`LISTEN ${NOTIFY_CHANNEL}_${this.db.location.schema}`);
      if (this.closed) await c.end();
      else this.listener = c;
    } catch {
      if (!this.closed) setTimeout(() => void this.listen(), 1000).unref();
    }
  }

  private async refreshWorkers(): Promise<void> {
    if (this.closed) return;
    try {
      const s = this.db.location.schema;
      const w = await this.db.query<{ threads: string | null }>(
        `SELECT sum(threads)::text AS threads FROM ${s}.workers WHERE seen_at > now() - interval '15 seconds' AND (run IS NULL OR run = $1)`,
        [this.store.name],
      );
      this.workers = Number(w.rows[0]?.threads ?? 0) || 0;
      const a = await this.db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${this.db.location.queueSchema}.job WHERE name = $1 AND state = 'active'`,
        [this.queue],
      );
      this.active = Number(a.rows[0]?.n ?? 0) || 0;
    } catch {
      // Figures for the dashboard only; the next refresh tries again.
    }
  }

  /** Jobs without a result past their lease: failed for good by pg-boss, or gone (archived): settle or re-send. */
  private async checkLost(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    const due = [...this.waiting.values()].filter((w) => w.checkAfter <= now);
    if (due.length === 0) return;
    try {
      await this.collect(due.map((w) => w.id));
      const still = due.filter((w) => this.waiting.has(w.id));
      if (still.length === 0) return;
      const r = await this.db.query<{ id: string; state: string; retry_count: number }>(
        `SELECT id::text, state::text, retry_count FROM ${this.db.location.queueSchema}.job WHERE name = $1 AND id = ANY($2::uuid[])`,
        [this.queue, still.map((w) => w.id)],
      );
      const states = new Map(r.rows.map((x) => [x.id, x]));
      for (const w of still) {
        const s = states.get(w.id);
        if (s?.state === 'failed')
          this.settle(w.id, {
            ok: false,
            reason: `lost: its lease expired ${Number(s.retry_count) + 1} times (the workers running it died or were cut off)`,
          });
        else if (s === undefined) this.opts.onLog?.('warn', `job ${w.id} left the queue without a result; it is redone when the run resumes`);
        w.checkAfter = now + 10_000;
      }
    } catch (e) {
      if (!this.closed) this.opts.onLog?.('warn', `checking jobs: ${errorText(e)}`);
    }
  }

  /**
   * Cancels the jobs no worker has begun: those not yet inserted, and those
   * still waiting in the queue (state `created` or `retry`, changed to
   * `cancelled` in one statement, so that a worker's fetch and the cancel
   * cannot both take a job). Each resolves as cancelled; jobs a worker holds
   * run to their end. Resolved when the queue has answered.
   */
  cancelQueued(): void {
    void this.cancelling();
  }

  private async cancelling(): Promise<void> {
    const cancelled: EvalOutcome = { ok: false, reason: 'cancelled before it started', cancelled: true };
    for (const b of this.outbox) this.settle(b.id, cancelled);
    this.outbox = [];
    const ids = [...this.waiting.keys()];
    if (ids.length === 0 || this.closed) return;
    try {
      const r = await this.db.query<{ id: string }>(
        `UPDATE ${this.db.location.queueSchema}.job SET state = 'cancelled', completed_on = now()
          WHERE name = $1 AND id = ANY($2::uuid[]) AND state IN ('created', 'retry') RETURNING id::text AS id`,
        [this.queue, ids],
      );
      for (const row of r.rows) this.settle(row.id, cancelled);
    } catch (e) {
      // Nothing cancelled: the run waits for these jobs as it would without cancelQueued.
      if (!this.closed) this.opts.onLog?.('warn', `cancelling queued jobs: ${errorText(e)}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const w of this.waiting.values()) w.resolve({ ok: false, reason: 'the executor is closed', crashed: true });
    this.waiting.clear();
    await this.listener?.end().catch(() => undefined);
    await this.boss.stop({ graceful: false, close: false, wait: true }).catch(() => undefined);
  }
}
