/**
 * A PostgreSQL connection pool that outlives the server's restarts.
 *
 * - A query or transaction that fails because the connection went away
 *   (server restarted, network cut, too many connections) is retried with
 *   exponential backoff (100 ms doubling to 5 s) until `retryForMs` has
 *   passed; then it fails with one line naming the store. Coordinators give
 *   up after minutes (the run stays resumable); workers keep trying.
 * - A transaction is retried as a whole, so it must be safe to run again
 *   after an unknown outcome (a COMMIT whose answer was lost): callers check
 *   what is already written.
 * - Messages carry the redacted URL only; errors from `pg` are redacted too.
 * - Idle clients that die raise 'error' on the pool; it is handled here so
 *   the process never crashes on a server restart.
 * - Sessions end a transaction left idle for 15 s
 *   (`idle_in_transaction_session_timeout`): a client frozen or cut off in
 *   the middle of one would otherwise hold its row locks until the server's
 *   TCP keepalive gives up (hours), and with them the jobs whose leases
 *   must expire. A live client that slow sees a lost connection and retries.
 */
import pg from 'pg';
import { redact, type StoreLocation } from './url.js';

/** A store failure the CLI prints on one line (connection lost for good, schema too new, ...). */
export class PgStoreError extends Error {
  constructor(message: string) {
    super(redact(message));
    this.name = 'PgStoreError';
  }
}

export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface ConnectionOptions {
  /** How long a query keeps retrying a lost connection (default 5 minutes; Infinity for workers). */
  retryForMs?: number;
  /** Connections in the pool (default 4). */
  max?: number;
  /** Told when the connection is lost and when it is back (once per outage). */
  onStatus?: (message: string, level: 'warn' | 'info') => void;
  /** `application_name` when the URL gives none. */
  applicationName?: string;
  /**
   * Commits that return before the server flushes them to disk
   * (`synchronous_commit = off`): for writes that a server crash may lose
   * without harm, as a worker's (see src/serve.ts). Default false.
   */
  asyncCommit?: boolean;
}

const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: the server is restarting
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting up
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** Another process created the same object first (a schema, a table, a type): creating again finds it. */
export function createdElsewhere(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === '42P06' || code === '42P07' || code === '42710';
}

/** The connection URL with server settings added to its `options` (kept after the URL's own). */
export function withSettings(connectionString: string, settings: Record<string, string>): string {
  const url = new URL(connectionString);
  const extra = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`);
  url.searchParams.set('options', [url.searchParams.get('options') ?? '', ...extra].filter(Boolean).join(' '));
  return url.toString();
}

/** Whether an error means "try again on a new connection", not "this query is wrong". */
export function isTransient(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (RETRYABLE_CODES.has(code) || code.startsWith('08')) return true;
  const msg = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|timeout expired|not queryable|Connection ended|terminating connection|socket hang up|read ECONNRESET|write EPIPE/i.test(msg);
}

export function errorText(e: unknown): string {
  const err = e as { message?: unknown; code?: unknown } | null;
  const msg = typeof err?.message === 'string' && err.message ? err.message : String(e);
  const code = typeof err?.code === 'string' && !msg.includes(err.code) ? ` (${err.code})` : '';
  return redact(msg.split('\n')[0] + code);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Connection implements Queryable {
  readonly location: StoreLocation;
  private readonly pool: pg.Pool;
  private readonly retryForMs: number;
  private readonly onStatus: (message: string, level: 'warn' | 'info') => void;
  private outageSince: number | null = null;
  private readonly appName: { application_name?: string };
  /** The URL with this connection's server settings. */
  private readonly url: string;
  private closed = false;

  constructor(location: StoreLocation, opts: ConnectionOptions = {}) {
    this.location = location;
    this.retryForMs = opts.retryForMs ?? 5 * 60_000;
    this.onStatus = opts.onStatus ?? (() => {});
    this.appName = /[?&]application_name=/.test(location.connectionString) ? {} : { application_name: opts.applicationName ?? 'optevo' };
    this.url = withSettings(location.connectionString, {
      idle_in_transaction_session_timeout: '15s',
      ...(opts.asyncCommit ? { synchronous_commit: 'off' } : {}),
    });
    this.pool = new pg.Pool({
      connectionString: this.url,
      max: opts.max ?? 4,
      idleTimeoutMillis: 30_000,
      // A cut-off network must surface as an error, not hang for the kernel's TCP time-out.
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
      ...this.appName,
    });
    // An idle client whose server went away: the next query reconnects.
    this.pool.on('error', () => {});
  }

  get display(): string {
    return this.location.display;
  }

  /** Runs `op`, retrying transient failures with backoff. */
  async retrying<T>(op: () => Promise<T>, what = 'query'): Promise<T> {
    let delay = 100;
    const start = Date.now();
    for (;;) {
      if (this.closed) throw new PgStoreError(`the connection to ${this.display} is closed`);
      try {
        const out = await op();
        if (this.outageSince !== null) {
          const s = ((Date.now() - this.outageSince) / 1000).toFixed(1);
          this.outageSince = null;
          this.onStatus(`reconnected to ${this.display} after ${s} s`, 'info');
        }
        return out;
      } catch (e) {
        if (!isTransient(e) || this.closed) throw e;
        if (this.outageSince === null) {
          this.outageSince = Date.now();
          this.onStatus(`lost the connection to ${this.display} (${errorText(e)}); retrying with backoff`, 'warn');
        }
        if (Date.now() - start >= this.retryForMs)
          throw new PgStoreError(`cannot reach ${this.display} (${what}, ${Math.round((Date.now() - start) / 1000)} s): ${errorText(e)}`);
        await sleep(Math.min(delay, Math.max(1, start + this.retryForMs - Date.now())));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.retrying(() => this.pool.query<R>(text, values as unknown[]));
  }

  /**
   * As `query`, saying how many times the statement was sent: one sent again
   * after a lost answer may find its own first try's writes, and the caller
   * must tell those from someone else's.
   */
  async queryCounted<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[], what: string): Promise<{ result: pg.QueryResult<R>; sends: number }> {
    let sends = 0;
    const result = await this.retrying(() => {
      sends++;
      return this.pool.query<R>(text, values);
    }, what);
    return { result, sends };
  }

  /**
   * Runs `f` in a transaction on one client, retrying the whole transaction
   * on a transient failure. `f` may run more than once: see the module note.
   */
  transaction<T>(f: (client: Queryable, attempt: number) => Promise<T>, what = 'transaction'): Promise<T> {
    let attempt = 0;
    return this.retrying(async () => {
      attempt++;
      const client = await this.pool.connect();
      let broken: unknown = undefined;
      // A checked-out client whose server goes away emits 'error': without a listener, the process dies.
      const onError = (e: unknown) => (broken = e);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await f(client, attempt);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        broken = isTransient(e) ? e : undefined;
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.off('error', onError);
        // A client whose connection failed is thrown away, not reused.
        client.release(broken === undefined ? undefined : (broken as Error));
      }
    }, what);
  }

  /** A client held for a session (advisory locks, LISTEN); the caller releases it. */
  async session(): Promise<pg.PoolClient> {
    const c = await this.retrying(() => this.pool.connect(), 'connect');
    c.on('error', () => {});
    return c;
  }

  /** Opens a client outside the pool (a LISTEN connection that must not starve the pool). */
  async dedicated(): Promise<pg.Client> {
    return this.retrying(async () => {
      const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, keepAlive: true, ...this.appName });
      c.on('error', () => {});
      try {
        await c.connect();
      } catch (e) {
        await c.end().catch(() => undefined);
        throw e;
      }
      return c;
    }, 'connect');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }
}
