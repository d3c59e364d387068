import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../search/postgres/connection.js';
import { CoordinatorLock, isCoordinated } from '../../search/postgres/lock.js';
import { ensureSchema, PG_SCHEMA_VERSION, schemaVersion } from '../../search/postgres/schema.js';
import { PgRunStore } from '../../search/postgres/store.js';
import { parseStoreUrl, redact, storeFromEnv } from '../../search/postgres/url.js';
import { OPTEVO_VERSION } from '../../search/version.js';
import { seedSource } from '../../seeds/index.js';
import { testConfig } from '../search/helpers.js';
import { tempDatabase, type TempDatabase } from './db.js';

describe('store URLs', () => {
  it('never show a password, keep libpq options, and take optevo\'s schema parameter out', () => {
    const loc = parseStoreUrl('postgresql://alice:s3cr%40t@db.example:6543/runs?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=lab&schema=team_a&sslpassword=kp');
    expect(loc.display).not.toMatch(/s3cr|kp\b/);
    expect(loc.display).toBe('postgresql://alice@db.example:6543/runs?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=lab&sslpassword=***&schema=team_a');
    expect(loc.connectionString).toContain('s3cr%40t');
    expect(loc.connectionString).toContain('sslmode=verify-full');
    expect(loc.connectionString).not.toContain('schema=');
    expect(loc.schema).toBe('team_a');
    expect(loc.queueSchema).toBe('team_a_queue');
    expect(redact('cannot connect to postgres://bob:hunter2@h/db?password=x&a=1')).toBe('cannot connect to postgres://bob@h/db?password=***&a=1');
  });

  it('reject what is not a PostgreSQL URL with one line naming the flag or variable', () => {
    expect(() => parseStoreUrl('mysql://x/y')).toThrow(/^--store: expected a postgresql:\/\/\.\.\. URL/);
    expect(() => parseStoreUrl('postgresql://u:pw@h')).toThrow(/names no database/);
    expect(() => parseStoreUrl('postgresql://u:pw@h')).not.toThrow(/pw/);
    expect(() => parseStoreUrl('postgresql://h/db?schema=Bad-Name')).toThrow(/schema 'Bad-Name'/);
    expect(() => storeFromEnv(undefined, { OPTEVO_STORE: 'sqlite:x' })).toThrow(/^OPTEVO_STORE:/);
    expect(storeFromEnv(undefined, {})).toBeNull();
    expect(storeFromEnv('postgresql://h/a', { OPTEVO_STORE: 'postgresql://h/b' })!.connectionString).toMatch(/\/a$/);
  });
});

let tdb: TempDatabase;
beforeAll(async () => {
  tdb = await tempDatabase('schema');
});
afterAll(async () => {
  await tdb?.drop();
});

describe('schema versions and the coordinator lock', () => {
  it('migrate once when many open together; readers never migrate; a newer schema is refused with a clear line', async () => {
    const db = new Connection(parseStoreUrl(`${tdb.url}?schema=versions`));
    await expect(ensureSchema(db, 'read')).rejects.toThrow(/no optevo runs at postgresql:\/\/.*schema=versions/);
    const found = await Promise.all([1, 2, 3].map(() => ensureSchema(db, 'write')));
    expect(found.filter((v) => v === 0).length).toBeGreaterThanOrEqual(1);
    expect(await schemaVersion(db, 'versions')).toBe(PG_SCHEMA_VERSION);
    const rows = await db.query('SELECT version FROM versions.schema_version');
    expect(rows.rows).toHaveLength(PG_SCHEMA_VERSION);
    // A later optevo migrated this store further:
    await db.query(`INSERT INTO versions.schema_version (version, optevo) VALUES (${PG_SCHEMA_VERSION + 1}, '9.9.9')`);
    const line = `has schema version ${PG_SCHEMA_VERSION + 1}, newer than this optevo ${OPTEVO_VERSION} reads (${PG_SCHEMA_VERSION}): upgrade optevo on this machine`;
    await expect(ensureSchema(db, 'write')).rejects.toThrow(line);
    await expect(ensureSchema(db, 'read')).rejects.toThrow(line);
    await db.close();
  });

  it('a second coordinator of a run is refused, and a run is free again when its coordinator goes', async () => {
    const db = new Connection(parseStoreUrl(tdb.url));
    const store = await PgRunStore.create(db, {
      name: 'locked',
      config: testConfig(),
      seeds: [{ name: 'adamw', source: seedSource('adamw') }],
      requirements: { optevo: OPTEVO_VERSION, backend: 'cpu', tasksModule: null },
    });
    expect(await isCoordinated(db, store.id)).toBe(false);
    const first = await CoordinatorLock.acquire(db, store.id, 'locked');
    expect(await isCoordinated(db, store.id)).toBe(true);
    await expect(CoordinatorLock.acquire(db, store.id, 'locked', 300)).rejects.toThrow(/^run 'locked' already has a coordinator \(optevo.*\): only one optevo search may drive a run$/);
    // A coordinator that asks while the lock is still held (its holder killed, not yet noticed by the server) gets it once freed.
    const second = CoordinatorLock.acquire(db, store.id, 'locked', 60_000);
    await new Promise((r) => setTimeout(r, 300));
    await first.release();
    await (await second).release();
    await expect(PgRunStore.create(db, { name: 'locked', config: testConfig(), seeds: [], requirements: store.requirements() })).rejects.toThrow(
      /a run named 'locked' already exists/,
    );
    await expect(PgRunStore.open(db, 'nope', { readonly: true })).rejects.toThrow(/no run 'nope' at .* \(recent runs: locked\)/);
    await db.close();
  });
});
