/** Opening a run kept in PostgreSQL for reading, with store errors as one-line user errors. */
import { Connection } from '../../search/postgres/connection.js';
import { PgRunStore } from '../../search/postgres/store.js';
import type { StoreLocation } from '../../search/postgres/url.js';
import { asUserError } from './pg-search.js';

/** Runs `f` on the run, read-only, and closes the connection whatever happens. Readers give up on an unreachable server after 15 s. */
export async function withPgRun<T>(location: StoreLocation, run: string, f: (store: PgRunStore, db: Connection) => Promise<T>): Promise<T> {
  return withPgStore(location, async (db) => f(await PgRunStore.open(db, run, { readonly: true }), db));
}

export async function withPgStore<T>(location: StoreLocation, f: (db: Connection) => Promise<T>, retryForMs = 15_000): Promise<T> {
  const db = new Connection(location, { retryForMs, applicationName: 'optevo' });
  try {
    return await f(db);
  } catch (e) {
    throw asUserError(e);
  } finally {
    await db.close();
  }
}
