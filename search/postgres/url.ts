/**
 * Store locations: `postgresql://user@host:5432/db?sslmode=require` (or
 * `postgres://`), given as `--store URL` or `OPTEVO_STORE`.
 *
 * - Every libpq option in the URL (`sslmode`, `sslrootcert`,
 *   `application_name`, `options`, `connect_timeout`, ...) goes to the `pg`
 *   client unchanged; passwords may also come from `PGPASSWORD` or
 *   `~/.pgpass`, as with psql.
 * - `schema=NAME` is optevo's own parameter (default `optevo`): the run
 *   tables live in NAME and the job queue in NAME_queue, so teams can share
 *   one database. It is removed before the URL reaches `pg`.
 * - A URL is shown only through `redact`: user, host, port, database and the
 *   non-secret options, never a password.
 */

export const DEFAULT_SCHEMA = 'optevo';

/** A store location that cannot be used: the CLI prints the message on one line. */
export class StoreUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUrlError';
  }
}

export interface StoreLocation {
  /** The connection string for `pg`, password included (never print it). */
  readonly connectionString: string;
  /** The same location with every secret removed: the only form that is printed or stored. */
  readonly display: string;
  /** Schema of the run tables. */
  readonly schema: string;
  /** Schema of pg-boss's queue tables. */
  readonly queueSchema: string;
}

/** Query parameters whose values are secrets. */
const SECRET_PARAM = /pass|secret|key$/i;

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s.trim());
}

/**
 * Removes every secret from a string that may hold a connection URL: the
 * password in `user:password@`, and values of `password=`, `sslpassword=`,
 * `sslkey=` parameters. Used on our messages and on errors from `pg` alike.
 */
export function redact(text: string): string {
  return text
    .replace(/(postgres(?:ql)?:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi, '$1@')
    .replace(/([?&;\s](?:[a-z_]*pass(?:word)?|[a-z_]*secret|sslkey)=)[^&\s'"]*/gi, '$1***');
}

export function parseStoreUrl(raw: string, where = '--store'): StoreLocation {
  const text = raw.trim();
  if (!isPostgresUrl(text)) throw new StoreUrlError(`${where}: expected a postgresql://... URL, not '${redact(text)}'`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StoreUrlError(`${where}: '${redact(text)}' is not a valid URL`);
  }
  const schema = url.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(schema))
    throw new StoreUrlError(`${where}: schema '${schema}' must be lower-case letters, digits and _ (at most 41), starting with a letter or _`);
  url.searchParams.delete('schema');
  if (!url.pathname || url.pathname === '/') throw new StoreUrlError(`${where}: '${redact(text)}' names no database (postgresql://host/DATABASE)`);
  const connectionString = url.toString();
  const shown = new URL(connectionString);
  shown.password = '';
  for (const k of [...shown.searchParams.keys()]) if (SECRET_PARAM.test(k)) shown.searchParams.set(k, '***');
  if (schema !== DEFAULT_SCHEMA) shown.searchParams.set('schema', schema);
  return { connectionString, display: decodeURIComponent(shown.toString()), schema, queueSchema: `${schema}_queue` };
}

/**
 * The store a command uses: `--store` if given, else `OPTEVO_STORE`, else
 * none (SQLite under the run folder, as before).
 */
export function storeFromEnv(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): StoreLocation | null {
  if (flag !== undefined && flag.trim() !== '') return parseStoreUrl(flag, '--store');
  const fromEnv = env.OPTEVO_STORE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseStoreUrl(fromEnv, 'OPTEVO_STORE');
  return null;
}
