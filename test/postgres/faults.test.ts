/**
 * Faults across processes, on the built code: a run kept in PostgreSQL,
 * evaluated by three worker processes, ends exactly as a one-worker SQLite
 * run of the same seed, although one worker is killed, one is frozen past
 * its lease (a host cut off, then back), the coordinator is killed and
 * resumed, and the server drops every connection mid-run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Connection } from '../../search/postgres/connection.js';
import { PgRunStore } from '../../search/postgres/store.js';
import { parseStoreUrl } from '../../search/postgres/url.js';
import { exited, killAll, printed, startNode, waitFor, type Proc } from '../processes.js';
import { essence, runSnapshot, tempDir } from '../search/helpers.js';
import { ADMIN_URL, committedChildren, tempDatabase, type TempDatabase } from './db.js';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const sqliteScript = fileURLToPath(new URL('../search/fixtures/search-process.mjs', import.meta.url));
const dir = tempDir();
let tdb: TempDatabase;
const procs: Proc[] = [];

beforeAll(async () => {
  tdb = await tempDatabase('faults');
});
afterAll(async () => {
  killAll(procs);
  await tdb?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const BUDGET = 120;
/** Bounds on every wait: generous, since the machine may be shared and loaded; a healthy run needs a fraction. */
const STEP_MS = 120_000;

const committed = (name: string) => committedChildren(tdb.url, name);
/** Waits (bounded) until the run has committed `n` children; returns how many it has. */
const until = async (name: string, n: number) => (await waitFor(() => committed(name), (x) => x >= n, STEP_MS)) ?? 0;
const start = (script: string, args: string[]) => startNode([script, ...args], { into: procs });

function sqliteSnapshot() {
  const r = spawnSync(process.execPath, [sqliteScript, 'new', dir, 'reference', String(BUDGET), '1'], { encoding: 'utf8', timeout: STEP_MS });
  if (r.status !== 0) throw new Error(`reference run failed: ${r.stderr}`);
  return runSnapshot(path.join(dir, 'reference'));
}

describe('a run on PostgreSQL with worker processes, through faults', () => {
  it('ends exactly as a one-worker SQLite run of the same seed', { timeout: 600_000 }, async () => {
    const want = sqliteSnapshot();

    let coord = start(fixture('pg-search.mjs'), [tdb.url, 'faults', String(BUDGET), 'new']);
    expect(await printed(coord, /^coordinating faults$/m, STEP_MS), coord.err).toBe(true);
    // A second coordinator of the same run is refused (while no worker runs, the first cannot have finished).
    const second = startNode([fixture('pg-search.mjs'), tdb.url, 'faults', String(BUDGET), 'resume'], { into: procs, env: { LOCK_WAIT_MS: '500' } });
    expect(await exited(second, STEP_MS)).toBe(1);
    expect(second.err).toMatch(/^optevo: run 'faults' already has a coordinator .*only one optevo search may drive a run\n$/);

    const workers = [1, 2, 3].map(() => start(fixture('pg-worker.mjs'), [tdb.url]));
    // A worker of another optevo version refuses the run with one line, and takes none of its jobs.
    const stranger = start(fixture('pg-worker.mjs'), [tdb.url, '0.0.1-other']);
    expect(await until('faults', 20)).toBeGreaterThanOrEqual(20);

    expect(await printed(stranger, /refuses run faults/, STEP_MS)).toBe(true);

    workers[0]!.kill('SIGKILL'); // a worker dies mid-job
    workers[1]!.kill('SIGSTOP'); // a host cut off: its leases expire and its jobs go elsewhere
    expect(await until('faults', 45)).toBeGreaterThanOrEqual(45);
    workers[1]!.kill('SIGCONT'); // ... and back: a late result is dropped, never committed twice

    coord.kill('SIGKILL');
    await exited(coord);
    const at = await committed('faults');
    expect(at).toBeLessThan(BUDGET);
    coord = start(fixture('pg-search.mjs'), [tdb.url, 'faults', String(BUDGET), 'resume']);
    expect(await until('faults', at + 20)).toBeGreaterThanOrEqual(Math.min(BUDGET, at + 20));

    // The server drops every connection (as in a restart): everyone reconnects with backoff.
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [tdb.name]);
    await admin.end();

    // Bounded by the run's progress, not a fixed time: it fails only if the run stops moving for a whole step.
    let code: number | null | 'timeout' = 'timeout';
    for (let seen = -1, now = await committed('faults'); code === 'timeout' && now > seen; seen = now, now = await committed('faults'))
      code = await exited(coord, STEP_MS);
    expect(code, coord.err).toBe(0);
    for (const w of [...workers.slice(1), stranger]) w.kill('SIGTERM');
    for (const w of [...workers.slice(1), stranger]) expect(await exited(w, STEP_MS), w.err).not.toBe('timeout');

    const db = new Connection(parseStoreUrl(tdb.url));
    const store = await PgRunStore.open(db, 'faults', { readonly: true });
    const got = {
      children: (await store.children()).map(essence),
      population: await store.population(),
      counters: { ...(await store.counters()), elapsedMs: 0, workerTime: null },
      metaval: (await store.metavalResults()).map((m) => [m.id, m.requestedAt, m.status, m.fitness]),
    };
    const logs = (await store.logs(200)).map((l) => l.message);
    await db.close();
    expect(got).toEqual(want);
    expect(stranger.err).toMatch(/refuses run faults: its optevo version \S+ differs from this worker's 0\.0\.1-other/);
    expect(logs.some((m) => /refuses run faults: its optevo version/.test(m))).toBe(true);
    expect(JSON.parse(stranger.out)).toEqual({ done: 0, dropped: 0 });
    // Whether the coordinator was mid-query when its connection dropped is a race; when it says so, the URL is redacted.
    for (const m of coord.err.matchAll(/lost the connection to (\S+)/g)) expect(m[1]).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:5432\/optevo_faults_\w+$/);
    expect(coord.err).not.toMatch(/cannot reach/);
  });
});
