import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../search/postgres/connection.js';
import { QueueExecutor } from '../../search/postgres/executor.js';
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

const job = (childId: number, suite: EvalJob['suite'] = 'quick'): EvalJob => ({ childId, source: seedSource('sgd'), suite, seed: 1, lrs: [1] });

describe('jobs through pg-boss', () => {
  it('a worker process serves jobs and results come back to the coordinator', async () => {
    const loc = parseStoreUrl(tdb.url);
    const db = new Connection(loc);
    const config = testConfig();
    const store = await PgRunStore.create(db, {
      name: 'q1',
      config,
      seeds: [{ name: 'adamw', source: seedSource('adamw') }],
      requirements: { optevo: OPTEVO_VERSION, backend: 'cpu', tasksModule: null },
    });
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
});
