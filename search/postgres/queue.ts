/**
 * Evaluation jobs between a coordinator and workers, on pg-boss 10 (the job
 * queue; optevo does not implement one).
 *
 * - One pg-boss queue per run (`optevo-run-ID`), in the schema `NAME_queue`.
 * - A job's id is derived from (run, child, suite, attempt), so a resumed
 *   coordinator that enqueues the same job again finds the one already
 *   there (pg-boss inserts with ON CONFLICT DO NOTHING) and its result, if a
 *   worker finished it meanwhile.
 * - Leases: a job runs under pg-boss's `expireInSeconds`, the evaluation's
 *   time limit plus a margin. A job whose worker died or was cut off expires
 *   in pg-boss's maintenance and is fetched again, by any worker, with a
 *   higher `retry_count`. A result is written only while the worker still
 *   holds the lease it fetched (same id, state `active`, same retry_count),
 *   in one transaction with the job's completion; so the late result of an
 *   expired job is dropped, and `results` holds at most one row per job.
 * - Payloads and results are validated on reading: a worker runs program
 *   text through the language's parser, never code from the database.
 */
import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import type { EvalJob, EvalOutcome } from '../types.js';
import { createdElsewhere, type Connection } from './connection.js';
import { SuiteResultSchema } from '../child-row.js';
import { RequirementsSchema, type RunRequirements } from './store.js';

export const NOTIFY_CHANNEL = 'optevo_results';
/** Told when jobs are enqueued, so idle workers fetch at once instead of polling fast. */
export const JOBS_CHANNEL = 'optevo_jobs';

/** Times a job's lease may expire before pg-boss fails it for good. */
export const LEASE_RETRIES = 3;

export function queueName(runId: number): string {
  return `optevo-run-${runId}`;
}

/**
 * A UUID from (run, child, suite, attempt) and the job's `variant` (see
 * jobVariant): the same job always has the same id.
 */
export function jobId(runId: number, childId: number, suite: string, attempt: number, variant = ''): string {
  const h = createHash('sha256').update(`optevo\0${runId}\0${childId}\0${suite}${variant}\0${attempt}`).digest('hex');
  // Version-5-shaped (name-based) UUID text.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * What tells apart jobs of one child and suite: the evaluation seed, the
 * tasks of a suite run one task per job, and whether it is scored. Without
 * it, attempt numbers would follow the order in which the parts and seeds
 * were asked for, which a resumed coordinator does not repeat, and it would
 * be handed another part's result.
 */
export function jobVariant(job: EvalJob): string {
  return `\0seed=${job.seed}${job.tasks ? `\0tasks=${job.tasks.join(',')}` : ''}${job.score === false ? '\0train' : ''}`;
}

/** What a job carries: the evaluation, and what the worker must match to run it. */
export interface JobPayload {
  v: 1;
  run: string;
  runId: number;
  attempt: number;
  /** Milliseconds the evaluation may take on the worker. */
  timeoutMs: number;
  requirements: RunRequirements;
  job: EvalJob;
}

const EvalJobSchema = z
  .object({
    // 0: the run's reference optimizer (its results, computed once per run, go to the workers as a job too).
    childId: z.number().int().min(0),
    source: z.string().min(1).max(200_000),
    suite: z.enum(['quick', 'standard', 'metaval']),
    seed: z.number().int().min(0),
    lrs: z.array(z.number().positive().finite()).max(64),
    steps: z.number().int().min(1).optional(),
    sweep: z.enum(['full', 'halving']).optional(),
    // The run's reference results travel with every job: workers score against them and never recompute.
    references: z
      .record(z.string(), z.object({ lr: z.number().nullable(), loss: z.number().nullable(), metric: z.number().nullable(), failure: z.string().optional() }).strict())
      .optional(),
    score: z.boolean().optional(),
    tasks: z.array(z.string().min(1).max(200)).min(1).max(64).optional(),
    limitMs: z.number().positive().optional(),
    urgent: z.boolean().optional(),
  })
  .strict();

// Every field of EvalJob must be in the schema: a field it lacks makes every job that has it malformed
// (so it was with `urgent` and `limitMs`: re-evaluations and capped meta-validations never ran on workers).
type Unchecked = Exclude<keyof EvalJob, keyof z.infer<typeof EvalJobSchema>>;
const everyFieldChecked: [Unchecked] extends [never] ? true : Unchecked = true;
void everyFieldChecked;

export const JobPayloadSchema = z
  .object({
    v: z.literal(1),
    run: z.string().min(1),
    runId: z.number().int().min(1),
    attempt: z.number().int().min(1),
    timeoutMs: z.number().positive(),
    requirements: RequirementsSchema,
    job: EvalJobSchema,
  })
  .strict();

const OutcomeSchema = z.union([
  z.object({ ok: z.literal(true), result: SuiteResultSchema }).strict(),
  z
    .object({ ok: z.literal(false), reason: z.string(), crashed: z.boolean().optional(), timedOut: z.boolean().optional() })
    .strict(),
]);

/** An outcome read back from `results`: checked, and returned as parsed (key order kept: see rows.ts). */
export function parseOutcome(text: string): EvalOutcome | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return OutcomeSchema.safeParse(value).success ? (value as EvalOutcome) : null;
}

/** pg-boss talks to PostgreSQL through our connection: one pool, one reconnect policy, redacted errors. */
function bossDb(db: Connection): { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> } {
  return { executeSql: (text, values) => db.query(text, values) };
}

/** pg-boss on this connection, started (its schema created or migrated on first use). */
export async function startBoss(
  db: Connection,
  opts: { supervise: boolean; maintenanceSeconds: number; onError?: (e: unknown) => void },
): Promise<PgBoss> {
  for (let attempt = 1; ; attempt++) {
    const boss = new PgBoss({
      db: bossDb(db),
      schema: db.location.queueSchema,
      supervise: opts.supervise,
      schedule: false,
      migrate: true,
      maintenanceIntervalSeconds: opts.maintenanceSeconds,
    } as PgBoss.ConstructorOptions);
    boss.on('error', (e) => opts.onError?.(e));
    try {
      await boss.start();
      return boss;
    } catch (e) {
      // Processes starting together race to create pg-boss's schema; its `CREATE SCHEMA IF NOT EXISTS`
      // can lose with a duplicate (pg-boss only forgives "already exists"). A new instance finds it made.
      await boss.stop({ graceful: false, close: false, wait: false }).catch(() => undefined);
      if (attempt >= 3 || !createdElsewhere(e)) throw e;
    }
  }
}

export async function ensureQueue(boss: PgBoss, runId: number): Promise<void> {
  const name = queueName(runId);
  if (await boss.getQueue(name)) return;
  try {
    await boss.createQueue(name, { name, policy: 'standard', retryLimit: LEASE_RETRIES, retryDelay: 0 });
  } catch (e) {
    // Another process created it first.
    if (!(await boss.getQueue(name))) throw e;
  }
}

/** The lease a worker holds on a fetched job. */
export interface Lease {
  jobId: string;
  queue: string;
  retryCount: number;
}

/** A finished job waiting to be written. */
export interface Finished {
  lease: Lease;
  /** Where the result goes: a whole payload, or just the address read from a malformed one. */
  payload: JobAddress;
  outcome: EvalOutcome;
}

/** The run, child and suite a job is for: what a result row needs. */
export interface JobAddress {
  runId: number;
  job: Pick<EvalJob, 'childId' | 'suite'>;
}

const JobAddressSchema = z.object({
  runId: z.number().int().min(1),
  job: z.object({ childId: z.number().int().min(0), suite: z.enum(['quick', 'standard', 'metaval']) }),
});

/**
 * The address of a job whose payload the worker cannot accept, where it can
 * still be read: the worker then answers at once with the reason, instead of
 * failing the job until its retries run out and leaving its coordinator to
 * wait out the lease.
 */
export function jobAddress(data: unknown): JobAddress | null {
  const r = JobAddressSchema.safeParse(data);
  return r.success ? r.data : null;
}

/**
 * Writes the outcomes of finished jobs whose leases the worker still holds,
 * and completes those jobs, in one statement (one round trip however many
 * jobs). Returns the ids written; the others lost their lease (the job
 * expired and went back to the queue, or is done elsewhere): their outcome
 * is dropped. Coordinators are told by NOTIFY which jobs have results.
 *
 * The completion is pg-boss 10's own (`completeJobs`: state `completed`,
 * `completed_on`, empty output), made here so that the lease check, the
 * result and the completion are one atomic statement.
 */
export async function writeResults(db: Connection, items: Finished[], worker: string): Promise<Set<string>> {
  const { schema, queueSchema } = db.location;
  const written = new Set<string>();
  const byQueue = new Map<string, Finished[]>();
  for (const f of items) byQueue.set(f.lease.queue, [...(byQueue.get(f.lease.queue) ?? []), f]);
  for (const [queue, group] of byQueue) {
    const runId = group[0]!.payload.runId;
    const { result, sends } = await db.queryCounted<{ id: string }>(
      `WITH held AS (
         UPDATE ${queueSchema}.job j SET completed_on = now(), state = 'completed', output = NULL
           FROM unnest($2::uuid[], $3::int[]) AS u(id, retry)
          WHERE j.name = $1 AND j.id = u.id AND j.state = 'active' AND j.retry_count = u.retry
         RETURNING j.id),
       res AS (
         INSERT INTO ${schema}.results (job_id, run_id, child_id, suite, outcome, worker)
         SELECT u.id, $4::int, u.child, u.suite, u.outcome, $8 FROM unnest($2::uuid[], $5::int[], $6::text[], $7::text[]) AS u(id, child, suite, outcome)
          WHERE u.id IN (SELECT id FROM held)
         ON CONFLICT (job_id) DO NOTHING),
       note AS (
         -- The payload names the jobs (as many as fit), so the coordinator reads only those.
         SELECT pg_notify($9, CASE WHEN count(*) * 37 < 7000 THEN $4::text || ':' || string_agg(id::text, ',') ELSE $4::text END)
           FROM held HAVING count(*) > 0)
       SELECT id::text FROM held WHERE (SELECT count(*) FROM note) >= 0`,
      [
        queue,
        group.map((f) => f.lease.jobId),
        group.map((f) => f.lease.retryCount),
        runId,
        group.map((f) => f.payload.job.childId),
        group.map((f) => f.payload.job.suite),
        group.map((f) => JSON.stringify(f.outcome)),
        worker,
        `${NOTIFY_CHANNEL}_${schema}`,
      ],
      `results of ${group.length} jobs`,
    );
    for (const r of result.rows) written.add(r.id);
    // Sent again after a lost answer: the first try may have written them (its jobs are completed now).
    if (sends > 1) {
      const mine = await db.query<{ id: string }>(`SELECT job_id::text AS id FROM ${schema}.results WHERE job_id = ANY($1::uuid[]) AND worker = $2`, [
        group.map((f) => f.lease.jobId),
        worker,
      ]);
      for (const r of mine.rows) written.add(r.id);
    }
  }
  return written;
}
