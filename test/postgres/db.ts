/**
 * Databases for tests: each test file creates its own database on the
 * machine's PostgreSQL (127.0.0.1:5432, trust authentication; `.ci/run`
 * starts it) and drops it afterwards, so tests never see each other's runs.
 * `OPTEVO_TEST_PG` overrides the server (a URL of its `postgres` database).
 */
import pg from 'pg';

export const ADMIN_URL = process.env.OPTEVO_TEST_PG ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TempDatabase {
  /** A store URL of the new database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 10_000 });
  c.on('error', () => {});
  try {
    await c.connect();
  } catch (e) {
    throw new Error(`tests need PostgreSQL at ${ADMIN_URL} (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): ${(e as Error).message}`);
  }
  try {
    return await f(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function tempDatabase(tag = 't'): Promise<TempDatabase> {
  const name = `optevo_${tag}_${process.pid}_${Math.floor(Math.random() * 1e9).toString(36)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** Children committed so far in run `name` of the store at `url` (0 where the run or the database is not there yet). */
export async function committedChildren(url: string, name: string): Promise<number> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    const r = await c.query<{ n: number | null }>(`SELECT (counters->>'committed')::int AS n FROM optevo.runs WHERE name = $1`, [name]);
    return r.rows[0]?.n ?? 0;
  } catch {
    return 0;
  } finally {
    await c.end().catch(() => undefined);
  }
}
