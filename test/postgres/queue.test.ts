import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../search/postgres/connection.js';
import { QueueExecutor } from '../../search/postgres/executor.js';
import { ensureQueue, jobId, NOTIFY_CHANNEL, queueName, startBoss, writeResults, type JobPayload } from '../../search/postgres/queue.js';
import { PgRunStore } from '../../search/postgres/store.js';
import { parseStoreUrl } from '../../search/postgres/url.js';
import type { EvalJob } from '../../search/types.js';
import { OPTEVO_VERSION } from '../../search/version.js';
import { seedSource } from '../../seeds/index.js';
import { serve } from '../../src/serve.js';
import { fakeExecutor, testConfig } from '../search/helpers.js';
import { tempDatabase, type TempDatabase } from './db.js';

let tdb: TempDatabase;
beforeAll(async () => {
  tdb = await tempDatabase('queue');
});
afterAll(async () => {
  await tdb?.drop();
});

/** A run in the test database (AdamW its seed, the test settings). */
const newRun = (db: Connection, name: string) =>
  PgRunStore.create(db, {
    name,
    config: testConfig(),
    seeds: [{ name: 'adamw', source: seedSource('adamw') }],
    requirements: { optevo: OPTEVO_VERSION, backend: 'cpu', tasksModule: null },
  });

const job = (childId: number, suite: EvalJob['suite'] = 'quick'): EvalJob => ({ childId, source: seedSource('sgd'), suite, seed: 1, lrs: [1] });

describe('jobs through pg-boss', () => {
  it('a worker process serves jobs and results come back to the coordinator', async () => {
    const loc = parseStoreUrl(tdb.url);
    const db = new Connection(loc);
    const store = await newRun(db, 'q1');
    const ex = await QueueExecutor.start(db, store, { timeoutMs: 5000, leaseMarginMs: 1000, maintenanceSeconds: 1, pollMs: 200 });
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const logs: string[] = [];
    const worker = serve({
      location: loc,
      workers: 2,
      makePool: async () => fakeExecutor({ size: 2 }),
      log: (_l, m) => logs.push(m),
      stop: stopped,
      idlePollSeconds: 0.05,
      maintenanceSeconds: 1,
    });
   
    const outs = await Promise.all([1, 2, 3, 4, 5].map((i) => ex.evaluate(job(i))));
    expect(outs.every((o) => o.ok)).toBe(true);
    stop();
   
    const summary = await worker;
   
    expect(summary.done).toBe(5);
    await ex.close();
    await db.close();
  });

  it('writes a result only under the lease it was taken with, once, and names the job to the coordinators', async () => {
    const loc = parseStoreUrl(tdb.url);
    const db = new Connection(loc);
    const store = await newRun(db, 'leases');
    const boss = await startBoss(db, { supervise: false, maintenanceSeconds: 60 });
    await ensureQueue(boss, store.id);
    const listener = await db.dedicated();
    const notes: string[] = [];
    listener.on('notification', (n) => notes.push(n.payload ?? ''));
    await listener.query(`LISTEN ${NOTIFY_CHANNEL}_${loc.schema}`);
    const queue = queueName(store.id);
    const id = jobId(store.id, 1, 'quick', 1);
    const payload: JobPayload = { v: 1, run: 'leases', runId: store.id, attempt: 1, timeoutMs: 1000, requirements: store.requirements(), job: job(1) };
    await boss.insert([{ id, name: queue, data: payload, expireInSeconds: 60, retryLimit: 3, retryDelay: 0 }]);
    const take = async () => {
      const [j] = (await boss.fetch(queue, { batchSize: 1, includeMetadata: true })) as unknown as { id: string; retryCount: number }[];
      return { jobId: j!.id, queue, retryCount: j!.retryCount };
    };
    const first = await take();
    // The lease expires (as pg-boss's maintenance does it) and the job is taken again.
    await db.query(`UPDATE ${loc.queueSchema}.job SET state = 'retry' WHERE id = $1`, [id]);
    const second = await take();
    expect(second.retryCount).toBe(first.retryCount + 1);
    const outcome = { ok: false as const, reason: 'test' };
    expect(await writeResults(db, [{ lease: first, payload, outcome }], 'late')).toEqual(new Set());
    expect(await writeResults(db, [{ lease: second, payload, outcome }], 'current')).toEqual(new Set([id]));
    expect(await writeResults(db, [{ lease: second, payload, outcome }], 'current')).toEqual(new Set());
    const rows = await db.query<{ worker: string }>(`SELECT worker FROM ${loc.schema}.results WHERE job_id = $1`, [id]);
    expect(rows.rows).toEqual([{ worker: 'current' }]);
    const state = await db.query<{ state: string }>(`SELECT state::text FROM ${loc.queueSchema}.job WHERE id = $1`, [id]);
    expect(state.rows[0]!.state).toBe('completed');
    for (let i = 0; i < 100 && notes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(notes).toEqual([`${store.id}:${id}`]);
    await listener.end();
    await boss.stop({ graceful: false, close: false, wait: true });
    await db.close();
  });

  it('at a deadline cancels the jobs no worker has begun; a resumed coordinator asks them again, urgent ones first, and workers serve them', async () => {
    const loc = parseStoreUrl(tdb.url);
    const db = new Connection(loc);
    const store = await newRun(db, 'cancel');
    const opts = { timeoutMs: 5000, leaseMarginMs: 1000, maintenanceSeconds: 1, pollMs: 100 };
    // A reference split into tasks, asked in one order; a re-evaluation on another seed; an urgent one; a capped one.
    const jobs: EvalJob[] = [
      { ...job(1), tasks: ['quadratic'] },
      { ...job(1), tasks: ['rosenbrock'] },
      { ...job(2), seed: 7 },
      { ...job(3), urgent: true },
      { ...job(4), limitMs: 1234 },
    ];
    const first = await QueueExecutor.start(db, store, opts);
    const outs = jobs.map((j) => first.evaluate(j));
    const queued = async () =>
      (
        await db.query<{ state: string; priority: number; timeout: number; tasks: string | null }>(
          `SELECT state::text, priority, (data->>'timeoutMs')::int AS timeout, data->'job'->>'tasks' AS tasks FROM ${loc.queueSchema}.job WHERE name = $1 ORDER BY priority DESC, (data->'job'->>'childId')::int, data->'job'->>'tasks'`,
          [queueName(store.id)],
        )
      ).rows;
    for (let i = 0; i < 100 && (await queued()).length < jobs.length; i++) await new Promise((r) => setTimeout(r, 20));
    const rows = await queued();
    expect(rows.map((r) => [r.priority, r.timeout])).toEqual([[1, 5000], [0, 5000], [0, 5000], [0, 5000], [0, 1234]]);
    first.cancelQueued();
    const cancelled = await Promise.all(outs);
    expect(cancelled.every((o) => !o.ok && o.cancelled === true)).toBe(true);
    expect((await queued()).every((r) => r.state === 'cancelled')).toBe(true);
    await first.close();

    // Resumed: the same jobs, the parts asked in the other order, get the same ids back and are served.
    const second = await QueueExecutor.start(db, store, opts);
    expect((await queued()).every((r) => r.state === 'created')).toBe(true);
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const worker = serve({ location: loc, workers: 1, makePool: async () => fakeExecutor({ size: 1 }), log: () => undefined, stop: stopped, idlePollSeconds: 0.05, maintenanceSeconds: 1 });
    const again = await Promise.all([jobs[1]!, jobs[0]!, ...jobs.slice(2)].map((j) => second.evaluate(j)));
    expect(again.filter((o) => !o.ok)).toEqual([]);
    stop();
    expect((await worker).done).toBe(jobs.length);
    expect(await queued()).toHaveLength(jobs.length);
    await second.close();
    await db.close();
  });

  it('answers a job it cannot accept at once, with the reason, instead of leaving the coordinator to wait out its lease', async () => {
    const loc = parseStoreUrl(tdb.url);
    const db = new Connection(loc);
    const store = await newRun(db, 'malformed');
    // A lease far longer than the test: an answer can only come from the worker.
    const ex = await QueueExecutor.start(db, store, { timeoutMs: 600_000, leaseMarginMs: 1000, maintenanceSeconds: 1, pollMs: 100 });
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const logs: string[] = [];
    const worker = serve({ location: loc, workers: 1, makePool: async () => fakeExecutor({ size: 1 }), log: (_l, m) => logs.push(m), stop: stopped, idlePollSeconds: 0.05, maintenanceSeconds: 1 });
    const [bad, good] = await Promise.all([ex.evaluate({ ...job(1), lrs: [-1] }), ex.evaluate(job(2))]);
    expect(bad).toMatchObject({ ok: false, reason: expect.stringMatching(/^malformed job .*: job\.lrs\.0: /) as unknown });
    expect(good.ok).toBe(true);
    expect(logs.some((l) => l.startsWith('malformed job'))).toBe(true);
    stop();
    await worker;
    await ex.close();
    await db.close();
  });
});
