/**
 * A search whose store is PostgreSQL and whose evaluations go through the
 * job queue to workers ends exactly as the same search on SQLite with the
 * local executor: same children, scores, population and meta-validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { startSearch } from '../../search/evolution.js';
import { Connection } from '../../search/postgres/connection.js';
import { QueueExecutor } from '../../search/postgres/executor.js';
import { PgRunStore } from '../../search/postgres/store.js';
import { parseStoreUrl } from '../../search/postgres/url.js';
import { OPTEVO_VERSION } from '../../search/version.js';
import { seedSource } from '../../seeds/index.js';
import { serve } from '../../src/serve.js';
import { createRun, essence, fakeExecutor, tempDir, testConfig } from '../search/helpers.js';
import { tempDatabase, type TempDatabase } from './db.js';

let tdb: TempDatabase;
const dir = tempDir();
beforeAll(async () => {
  tdb = await tempDatabase('search');
});
afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const config = testConfig({ budget: 48, batch: 6, metavalEvery: 12, metavalTop: 2, restartAfter: 15 });

describe('a search on PostgreSQL with queue workers', () => {
  it('is identical to the same search on SQLite with the local executor', async () => {
    const local = createRun(dir, config, 'local');
    const h1 = startSearch({ store: local, executor: fakeExecutor({ size: 2, jitter: 3 }) });
    await h1.done;
    const want = {
      children: local.children().map(essence),
      population: local.population(),
      metaval: local.metavalResults().map((m) => [m.id, m.requestedAt, m.status, m.fitness]),
    };
    local.close();

    const loc = parseStoreUrl(tdb.url);
    const db = new Connection(loc);
    const store = await PgRunStore.create(db, {
      name: 'remote',
      config,
      seeds: config.seeds.map((s) => ({ name: s, source: seedSource(s) })),
      requirements: { optevo: OPTEVO_VERSION, backend: 'cpu', tasksModule: null },
    });
    const ex = await QueueExecutor.start(db, store, { timeoutMs: 5000, leaseMarginMs: 1000, maintenanceSeconds: 1, pollMs: 100 });
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const workers = [1, 2].map(() =>
      serve({ location: loc, workers: 2, makePool: async () => fakeExecutor({ size: 2, jitter: 5 }), log: () => {}, stop: stopped, idlePollSeconds: 0.05 }),
    );
    const h2 = startSearch({ store, executor: ex });
    await h2.done;
    stop();
    await Promise.all(workers);
    await ex.close();
    const got = {
      children: (await store.children()).map(essence),
      population: await store.population(),
      metaval: (await store.metavalResults()).map((m) => [m.id, m.requestedAt, m.status, m.fitness]),
    };
    expect(got).toEqual(want);
    expect(await store.status()).toBe('done');
    await db.close();
  });
});
