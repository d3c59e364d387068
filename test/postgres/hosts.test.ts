/**
 * Workers on separate test hosts (network namespaces joined by veth, as
 * root): each reaches PostgreSQL over its own address; one host is cut off
 * the network mid-run. Its leases expire, its jobs are redone by the other
 * hosts, and the run ends exactly as a one-worker SQLite run of the seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Connection } from '../../search/postgres/connection.js';
import { PgRunStore } from '../../search/postgres/store.js';
import { parseStoreUrl } from '../../search/postgres/url.js';
import { SqliteRunStore } from '../../search/store.js';
import { essence, tempDir } from '../search/helpers.js';
import { tempDatabase, type TempDatabase } from './db.js';
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

async function committed(): Promise<number> {
  const c = new pg.Client({ connectionString: tdb.url });
  c.on('error', () => {});
  try {
    await c.connect();
    const r = await c.query(`SELECT (counters->>'committed')::int AS n FROM optevo.runs WHERE name = 'hosts'`);
    return r.rows[0]?.n ?? 0;
  } catch {
    return 0;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const exited = (p: ChildProcess) => (p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise<number | null>((r) => p.once('exit', (code) => r(code))));

describe.skipIf(!hostsOk)('workers on test hosts (network namespaces, as root)', () => {
  it('one host cut off mid-run: the run completes, identical to a one-worker SQLite run', { timeout: 180_000 }, async () => {
    const ref = spawnSync(process.execPath, [sqliteScript, 'new', dir, 'reference', String(BUDGET), '1'], { encoding: 'utf8', timeout: 120_000 });
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
      const coord = spawn(process.execPath, [fixture('pg-search.mjs'), tdb.url, 'hosts', String(BUDGET), 'new'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      coord.stderr.on('data', (d) => (err += d));
      const end = Date.now() + 90_000;
      while ((await committed()) < 25 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      hosts[0]!.cut();
      const code = await Promise.race([exited(coord), new Promise((r) => setTimeout(() => r('timeout'), 120_000))]);
      expect(code, err).toBe(0);
      // The hosts still connected did the work; every host was served through its own address.
      for (const w of workers.slice(1)) w.kill('SIGTERM');
      await Promise.all(workers.slice(1).map(exited));
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
