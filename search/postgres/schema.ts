/**
 * The PostgreSQL store's tables, as numbered migrations.
 *
 * `SCHEMA.schema_version` holds one row per applied migration. Opening a
 * store for writing applies the missing ones, in one transaction under an
 * advisory lock, so coordinators and workers starting together migrate
 * once. A store whose version is newer than this optevo knows is refused
 * with a line saying so; read-only openers (`runs`, `show`, `export`) never
 * change the schema and ask for a migration instead of reading an old one.
 *
 * Migrations are append-only: a released one is never edited, only followed.
 */
import { createdElsewhere, PgStoreError, type Connection, type Queryable } from './connection.js';
import { schemaVerdict } from '../schema-version.js';
import { OPTEVO_VERSION } from '../version.js';

/** Each entry is the SQL of one version (index + 1); `S` stands for the schema name. */
const MIGRATIONS: readonly string[] = [
  // 1: runs, their children (suite results as JSON text: see rows.ts), population history, meta-validation, log, job results and workers.
  `
  CREATE TABLE S.runs (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    status TEXT NOT NULL,
    config JSONB NOT NULL,
    seeds JSONB NOT NULL,
    requirements JSONB NOT NULL,
    counters JSONB NOT NULL
  );
  CREATE TABLE S.children (
    run_id INTEGER NOT NULL REFERENCES S.runs (id) ON DELETE CASCADE,
    id INTEGER NOT NULL,
    parent INTEGER,
    mutation TEXT NOT NULL,
    mutation_detail TEXT NOT NULL,
    source TEXT NOT NULL,
    simplified TEXT NOT NULL,
    hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    fitness DOUBLE PRECISION,
    quick_fitness DOUBLE PRECISION,
    standard_fitness DOUBLE PRECISION,
    quick TEXT,
    standard TEXT,
    metaval DOUBLE PRECISION,
    size INTEGER NOT NULL,
    cached_from INTEGER,
    failure TEXT,
    ms DOUBLE PRECISION NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, id)
  );
  CREATE INDEX children_fitness ON S.children (run_id, fitness DESC NULLS LAST, id);
  CREATE TABLE S.scores (
    run_id INTEGER NOT NULL REFERENCES S.runs (id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL,
    suite TEXT NOT NULL,
    task TEXT NOT NULL,
    score DOUBLE PRECISION,
    loss DOUBLE PRECISION,
    metric DOUBLE PRECISION,
    lr DOUBLE PRECISION,
    ms DOUBLE PRECISION NOT NULL,
    failure TEXT,
    PRIMARY KEY (run_id, child_id, suite, task)
  );
  CREATE TABLE S.members (
    run_id INTEGER NOT NULL REFERENCES S.runs (id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL,
    fitness DOUBLE PRECISION NOT NULL,
    added_at INTEGER NOT NULL,
    removed_at INTEGER,
    PRIMARY KEY (run_id, child_id, added_at)
  );
  CREATE INDEX members_open ON S.members (run_id, removed_at);
  CREATE TABLE S.metaval (
    run_id INTEGER NOT NULL REFERENCES S.runs (id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL,
    requested_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    fitness DOUBLE PRECISION,
    result TEXT,
    PRIMARY KEY (run_id, child_id)
  );
  CREATE TABLE S.log (
    seq BIGSERIAL PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES S.runs (id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    level TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX log_run ON S.log (run_id, seq);
  CREATE TABLE S.results (
    seq BIGSERIAL PRIMARY KEY,
    job_id UUID NOT NULL UNIQUE,
    run_id INTEGER NOT NULL REFERENCES S.runs (id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL,
    suite TEXT NOT NULL,
    outcome TEXT NOT NULL,
    worker TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX results_run ON S.results (run_id, seq);
  CREATE TABLE S.workers (
    id UUID PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    threads INTEGER NOT NULL,
    backend TEXT NOT NULL,
    optevo TEXT NOT NULL,
    run TEXT,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    busy INTEGER NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0
  );
  `,
  // 2: what a run measures once (reference results, noise), and each child's re-evaluation and family.
  `
  ALTER TABLE S.runs ADD COLUMN calibration JSONB;
  ALTER TABLE S.children ADD COLUMN reeval TEXT;
  ALTER TABLE S.children ADD COLUMN family TEXT;
  `,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

function sql(text: string, schema: string): string {
  return text.replace(/\bS\./g, `${schema}.`);
}

/** Advisory-lock keys: one per purpose and schema, from the schema's name (stable across processes). */
export function lockKey(schema: string, purpose: string): string {
  return `optevo.${schema}.${purpose}`;
}

/** The schema's version, or 0 where optevo never wrote. */
export async function schemaVersion(db: Queryable, schema: string): Promise<number> {
  const t = await db.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_version') AS exists`,
    [schema],
  );
  if (!t.rows[0]?.exists) return 0;
  const v = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${schema}.schema_version`);
  const n = v.rows[0]?.v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}

/** The store's version, refused with the shared policy's line if this optevo cannot use it (search/schema-version.ts). */
function checkVersion(display: string, version: number): void {
  if (version === 0) return; // nothing written yet
  const verdict = schemaVerdict(version, PG_SCHEMA_VERSION, `the store at ${display}`);
  if (verdict.kind === 'refused') throw new PgStoreError(verdict.why);
}

/**
 * Brings the schema up to this optevo's version (`write`), or checks that
 * it is there (`read`). Returns the version found before migrating.
 */
export async function ensureSchema(db: Connection, mode: 'write' | 'read'): Promise<number> {
  const { schema, display } = db.location;
  const found = await schemaVersion(db, schema);
  checkVersion(display, found);
  if (mode === 'read') {
    if (found === 0) throw new PgStoreError(`no optevo runs at ${display} (start one with: optevo search --store URL)`);
    if (found < PG_SCHEMA_VERSION)
      throw new PgStoreError(
        `the store at ${display} has schema version ${found}, older than this optevo's ${PG_SCHEMA_VERSION}: run 'optevo search' or 'optevo worker' against it once to migrate`,
      );
    return found;
  }
  if (found === PG_SCHEMA_VERSION) return found;
  // Processes starting together race to create the schema: PostgreSQL's `IF NOT EXISTS` may miss one
  // created while this transaction waited for the lock, and the loser sees a duplicate. It tries once more,
  // in a new transaction, which sees what the winner made.
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(db);
      return found;
    } catch (e) {
      if (attempt >= 3 || !createdElsewhere(e)) throw e;
    }
  }
}

async function migrate(db: Connection): Promise<void> {
  const { schema, display } = db.location;
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey(schema, 'migrate')]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_version (version INTEGER PRIMARY KEY, optevo TEXT NOT NULL, migrated_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    // Another process may have migrated while this one waited for the lock.
    const now = await schemaVersion(tx, schema);
    checkVersion(display, now);
    for (let v = now + 1; v <= PG_SCHEMA_VERSION; v++) {
      await tx.query(sql(MIGRATIONS[v - 1]!, schema));
      await tx.query(`INSERT INTO ${schema}.schema_version (version, optevo) VALUES ($1, $2)`, [v, OPTEVO_VERSION]);
    }
  }, 'migration');
}
