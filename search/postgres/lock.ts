/**
 * One coordinator per run: a session-level advisory lock on the run, held
 * on a dedicated connection for the coordinator's life. A second
 * `optevo search --resume` of the same run is refused; `optevo runs` sees
 * a run marked running whose lock nobody holds as interrupted.
 *
 * PostgreSQL drops the lock with the connection (a killed coordinator frees
 * its run at once). If the connection is lost while the coordinator lives,
 * it takes the lock again on a new one; if another coordinator took it
 * meanwhile, `lost` resolves and the search must stop.
 */
import type pg from 'pg';
import { PgStoreError, type Connection } from './connection.js';
import { lockKey } from './schema.js';

export function runLockKey(schema: string, runId: number): string {
  return lockKey(schema, `run.${runId}`);
}

export class CoordinatorLock {
  private client: pg.Client | null;
  private timer: NodeJS.Timeout | null = null;
  private released = false;
  private signalLost: (why: string) => void = () => {};
  /** Resolves (with the reason) if the lock is lost to another process. */
  readonly lost: Promise<string>;

  private constructor(
    private readonly db: Connection,
    private readonly key: string,
    private readonly run: string,
    client: pg.Client,
  ) {
    this.client = client;
    this.lost = new Promise((r) => (this.signalLost = r));
  }

  /**
   * Takes the run's lock, waiting up to `waitMs` for it: a coordinator killed
   * a moment ago still holds it until the server notices its connection is
   * gone (at once on an idle connection, after the query it was running on a
   * busy one), and a resume right after the kill must not be refused for that.
   */
  static async acquire(db: Connection, runId: number, run: string, waitMs = 10_000): Promise<CoordinatorLock> {
    const key = runLockKey(db.location.schema, runId);
    const client = await db.dedicated();
    const until = Date.now() + waitMs;
    let got = false;
    try {
      got = await tryLock(client, key);
      while (!got && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        got = await tryLock(client, key);
      }
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    if (!got) {
      const who = await holder(client, key).catch(() => '');
      await client.end().catch(() => undefined);
      throw new PgStoreError(`run '${run}' already has a coordinator${who ? ` (${who})` : ''}: only one optevo search may drive a run`);
    }
    const lock = new CoordinatorLock(db, key, run, client);
    lock.watch();
    return lock;
  }

  /** Checks the session every few seconds; after a lost connection, takes the lock again. */
  private watch(): void {
    this.timer = setInterval(() => void this.check(), 3000);
    this.timer.unref();
  }

  private checking = false;

  private async check(): Promise<void> {
    if (this.released || this.checking) return;
    this.checking = true;
    try {
      if (this.client) {
        try {
          await this.client.query('SELECT 1');
          return;
        } catch {
          await this.client.end().catch(() => undefined);
          this.client = null;
        }
      }
      const c = await this.db.dedicated();
      if (this.released) {
        await c.end().catch(() => undefined);
        return;
      }
      if (await tryLock(c, this.key)) this.client = c;
      else {
        await c.end().catch(() => undefined);
        this.signalLost(`another coordinator took run '${this.run}' while the connection was down`);
        await this.release();
      }
    } catch {
      // The server is still away: try again at the next check.
    } finally {
      this.checking = false;
    }
  }

  /** Gives the run up: resolves once the session holding the lock has ended. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

async function tryLock(c: pg.Client, key: string): Promise<boolean> {
  const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key]);
  return r.rows[0]?.ok === true;
}

/** Who holds the lock: application name and address, for the refusal message. */
async function holder(c: pg.Client, key: string): Promise<string> {
  const r = await c.query<{ app: string | null; addr: string | null; pid: number }>(
    `SELECT a.application_name AS app, host(a.client_addr) AS addr, a.pid
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`,
    [key],
  );
  const x = r.rows[0];
  return x ? [x.app, x.addr ? `from ${x.addr}` : null].filter(Boolean).join(' ') : '';
}

/** Whether some process coordinates the run now (for `optevo runs`: running but unlocked is interrupted). */
export async function isCoordinated(db: Connection, runId: number): Promise<boolean> {
  const r = await db.query<{ n: string }>(
    // Advisory locks are per database: another database's run with the same key is not this one.
    `SELECT count(*)::text AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
    [runLockKey(db.location.schema, runId)],
  );
  return Number(r.rows[0]?.n ?? 0) > 0;
}
