/** `--store URL` / `OPTEVO_STORE`, shared by search, worker, runs, show and export. */
import { StoreUrlError, storeFromEnv, type StoreLocation } from '../../search/postgres/url.js';
import { UserError } from './errors.js';

export function storeOption(flag: string | undefined): StoreLocation | null {
  try {
    return storeFromEnv(flag);
  } catch (e) {
    if (e instanceof StoreUrlError) throw new UserError(e.message);
    throw e;
  }
}

export const STORE_HELP = 'PostgreSQL store URL (postgresql://user@host:5432/db?sslmode=...); default $OPTEVO_STORE, else the SQLite runs folder';
