/**
 * Workers on separate test hosts (network namespaces joined by veth, as
 * root): each reaches PostgreSQL over its own address; one host is cut off
 * the network mid-run. Its leases expire, its jobs are redone by the other
 * hosts, and the run ends exactly as a one-worker SQLite run of the seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '../../search/postgres/connection.js';
import { PgRunStore } from '../../search/postgres/store.js';
import { parseStoreUrl } from '../../search/postgres/url.js';
import { SqliteRunStore } from '../../search/store.js';
import { essence, tempDir } from '../search/helpers.js';
import { exited, killAll, startNode, waitFor } from '../processes.js';
import { committedChildren, tempDatabase, type TempDatabase } from './db.js';
import { canMakeHosts, withHosts } from './hosts.js';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const sqliteScript = fileURLToPath(new URL('../search/fixtures/search-process.mjs', import.meta.url));
const dir = tempDir();
let tdb: TempDatabase;
const BUDGET = 90;
const hostsOk = canMakeHosts();

beforeAll(async () => {
  tdb = await tempDatabase('hosts');
});
afterAll(async () => {
  await tdb?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Bounds on every wait: generous, since the machine may be shared and loaded; a healthy run needs a fraction. */
const STEP_MS = 120_000;

describe.skipIf(!hostsOk)('workers on test hosts (network namespaces, as root)', () => {
  it('one host cut off mid-run: the run completes, identical to a one-worker SQLite run', { timeout: 600_000 }, async () => {
    const ref = spawnSync(process.execPath, [sqliteScript, 'new', dir, 'reference', String(BUDGET), '1'], { encoding: 'utf8', timeout: STEP_MS });
    expect(ref.status, ref.stderr).toBe(0);
    const lite = SqliteRunStore.open(path.join(dir, 'reference'), { readonly: true });
    const want = { children: lite.children().map(essence), population: lite.population() };
    lite.close();

    const port = Number(new URL(tdb.url).port || 5432);
    await withHosts(3, port, async (hosts) => {
      const workers = hosts.map((h) => {
        const u = new URL(tdb.url);
        u.hostname = h.gateway;
        return h.node([fixture('pg-worker.mjs'), u.toString()]);
      });
      const coord = startNode([fixture('pg-search.mjs'), tdb.url, 'hosts', String(BUDGET), 'new']);
      try {
        const at = await waitFor(() => committedChildren(tdb.url, 'hosts'), (n) => n >= 25, STEP_MS);
        expect(at).toBeGreaterThanOrEqual(25);
        hosts[0]!.cut();
        // Bounded by the run's progress, not a fixed time: it fails only if the run stops moving for a whole step.
        let code: number | null | 'timeout' = 'timeout';
        for (let seen = -1, now = at!; code === 'timeout' && now > seen; seen = now, now = await committedChildren(tdb.url, 'hosts'))
          code = await exited(coord, STEP_MS);
        expect(code, coord.err).toBe(0);
      } finally {
        killAll([coord]);
      }
      // The hosts still connected did the work; every host was served through its own address.
      for (const w of workers.slice(1)) w.kill('SIGTERM');
      for (const w of workers.slice(1)) expect(await exited(w, STEP_MS), w.err).not.toBe('timeout');
      const done = workers.slice(1).map((w) => JSON.parse(w.out || '{"done":0}').done as number);
      // Which of the two hosts took how many jobs is a race; that the work was done through them is not.
      expect(done.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });

    const db = new Connection(parseStoreUrl(tdb.url));
    const store = await PgRunStore.open(db, 'hosts', { readonly: true });
    const got = { children: (await store.children()).map(essence), population: await store.population() };
    await db.close();
    expect(got).toEqual(want);
  });
});
