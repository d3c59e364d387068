/**
 * The run store: one SQLite database per run (better-sqlite3), `DIR/NAME/run.db`.
 *
 * What it holds:
 * - `meta`: the run's name, creation time, schema version, its search
 *   configuration (fixed for the run's life except `budget`), the seed
 *   programs' source as they were when the run started, and the run status.
 * - `children`: every judged child, in id order, with its source, simplified
 *   source, hashes, status, fitness, suite results (JSON, with per-task best
 *   rates and curves) and timings; `scores` repeats the per-task scores as rows.
 * - `members`: the population's history. A row is a stay in the population:
 *   the child, the commit (child id) that added it and the commit that removed
 *   it. The population after commit n is the rows with `added_at <= n` and no
 *   removal up to n, oldest first. The search breeds child i from the state
 *   after commit i - batch, so this history is what lets a resume rebuild it.
 * - `counters`: committed id, per-status counts, best child, last improvement,
 *   elapsed time. `metaval`: meta-validation requests and results. `log`:
 *   warnings (worker crashes, time-outs) for the dashboard and `show`.
 *
 * Every commit (a child, its population change, the counters, metaval
 * requests) is one transaction, so a run killed at any moment holds a prefix
 * of the children, nothing half-written. WAL mode lets readers (dashboard,
 * `optevo show` in another terminal) read while the search writes.
 *
 * The read API (for the dashboard, `runs`, `show`, `export`):
 *   const store = SqliteRunStore.open(resolveRunPath('my-run'), { readonly: true });
 *   store.info(); store.config(); store.stats(); store.counters();
 *   store.child(17); store.children({ from: 1, limit: 100 }); store.iterateChildren();
 *   store.leaderboard(10); store.leaderboard(10, 'metaval'); store.population();
 *   store.lineage(17); store.bestHistory(); store.metavalResults(); store.logs();
 *   store.close();
 */
import { schemaVerdict } from './schema-version.js';
import { statsOf } from './stats.js';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { type Calibration, type ChildRecord, type ChildStatus, type Counters, type LogLevel, type Member, type SearchStats, type SuiteResult, ZERO_COUNTERS } from './types.js';
import { formatZodError, parseSearchConfig, type SearchConfig } from './config.js';
import type { Commit, RunInfo, RunStatus, RunStore, SeedSource } from './run-store.js';
import { analysisColumns, childFromRow, suiteFromJson } from './child-row.js';
import { CountersSchema, RUN_STATUSES, SeedsSchema } from './stored-schemas.js';
import { errorMessage } from '../dsl/errors.js';

export type { Commit, RunStatus, SeedSource } from './run-store.js';

export const SCHEMA_VERSION = 1;
export const DB_FILE = 'run.db';
export const DEFAULT_RUN_DIR = 'runs';

/** A missing, corrupt or incompatible run: the CLI prints the message on one line. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** SQLite could not read or write the file in place for want of permission (not damage). */
class InPlaceReadFailed extends Error {}

function isPermissionFault(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  return /^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code);
}

/** Why this process cannot write the run (its folder or database), or undefined. */
function unwritable(file: string): string | undefined {
  for (const p of [path.dirname(file), file]) {
    try {
      fs.accessSync(p, fs.constants.W_OK);
    } catch (e) {
      return `${p}: ${(e as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : 'permission denied'}`;
    }
  }
  return undefined;
}

/** A run as this store keeps it: the search's `RunInfo` and where the file is. */
export interface SqliteRunInfo extends RunInfo {
  /** The database file. */
  file: string;
  createdAt: string;
  status: RunStatus;
  version: number;
}

const METAVAL_STATUSES: readonly MetavalRow['status'][] = ['pending', 'done', 'failed'];

export interface MetavalRow {
  id: number;
  requestedAt: number;
  status: 'pending' | 'done' | 'failed';
  fitness: number | null;
  result: SuiteResult | null;
}

export interface LogRow {
  at: string;
  level: LogLevel;
  message: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS children (
  id INTEGER PRIMARY KEY,
  parent INTEGER,
  mutation TEXT NOT NULL,
  mutation_detail TEXT NOT NULL,
  source TEXT NOT NULL,
  simplified TEXT NOT NULL,
  hash TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status TEXT NOT NULL,
  fitness REAL,
  quick_fitness REAL,
  standard_fitness REAL,
  quick TEXT,
  standard TEXT,
  metaval REAL,
  size INTEGER NOT NULL,
  cached_from INTEGER,
  failure TEXT,
  ms REAL NOT NULL,
  at TEXT NOT NULL,
  reeval TEXT,
  family TEXT
);
CREATE INDEX IF NOT EXISTS children_fitness ON children (fitness DESC, id);
CREATE INDEX IF NOT EXISTS children_hash ON children (hash);
CREATE INDEX IF NOT EXISTS children_fingerprint ON children (fingerprint);
CREATE TABLE IF NOT EXISTS scores (
  child_id INTEGER NOT NULL,
  suite TEXT NOT NULL,
  task TEXT NOT NULL,
  score REAL,
  loss REAL,
  metric REAL,
  lr REAL,
  ms REAL NOT NULL,
  failure TEXT,
  PRIMARY KEY (child_id, suite, task)
);
CREATE TABLE IF NOT EXISTS members (
  child_id INTEGER NOT NULL,
  fitness REAL NOT NULL,
  added_at INTEGER NOT NULL,
  removed_at INTEGER,
  PRIMARY KEY (child_id, added_at)
);
CREATE INDEX IF NOT EXISTS members_open ON members (removed_at);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metaval (
  child_id INTEGER PRIMARY KEY,
  requested_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  fitness REAL,
  result TEXT
);
CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL);
`;

/** NaN and infinities are not JSON; a non-finite number is stored as null. */
function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/**
 * Where a run lives. `run` may be a run directory, its database file, or a
 * name under `runDir` (default `runs/`).
 */
export function resolveRunPath(run: string, runDir: string = DEFAULT_RUN_DIR): { dir: string; file: string } {
  const candidates = [run, path.join(runDir, run)];
  for (const c of candidates) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(c);
    } catch {
      continue;
    }
    if (st.isFile()) return { dir: path.dirname(c), file: c };
    if (st.isDirectory() && fs.existsSync(path.join(c, DB_FILE))) return { dir: c, file: path.join(c, DB_FILE) };
  }
  throw new StoreError(`no run '${run}' (looked for ${candidates.map((c) => `${c}/${DB_FILE}`).join(' and ')})`);
}

/** `2026-11-28-1527-a3f` style names: sortable, short, unlikely to collide. */
export function generateRunName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${Math.floor(Math.random() * 0xfff).toString(16).padStart(3, '0')}`;
}

export class SqliteRunStore implements RunStore {
  private readonly db: Database.Database;
  readonly dir: string;
  readonly file: string;
  readonly readonly: boolean;
  /** Removes the private copy a read-only open made, if any. */
  private cleanup: (() => void) | undefined;

  private constructor(db: Database.Database, file: string, readonly: boolean) {
    this.db = db;
    this.file = file;
    this.dir = path.dirname(file);
    this.readonly = readonly;
  }

  /** Makes a new run at `dir` (which must not hold a run yet). */
  static create(dir: string, init: { name?: string; config: SearchConfig; seeds: SeedSource[] }): SqliteRunStore {
    const file = path.join(dir, DB_FILE);
    if (fs.existsSync(file)) throw new StoreError(`a run already exists at ${dir} (use --resume to continue it)`);
    fs.mkdirSync(dir, { recursive: true });
    const db = new Database(file);
    const store = new SqliteRunStore(db, file, false);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      put.run('version', JSON.stringify(SCHEMA_VERSION));
      put.run('name', JSON.stringify(init.name ?? path.basename(path.resolve(dir))));
      put.run('created', JSON.stringify(new Date().toISOString()));
      put.run('status', JSON.stringify('running'));
      put.run('config', JSON.stringify(init.config));
      put.run('seeds', JSON.stringify(init.seeds));
      store.writeCounters(ZERO_COUNTERS);
    })();
    return store;
  }

  /**
   * Opens an existing run (a directory, its `run.db`, or a name under `runs/`:
   * see `resolveRunPath`). Read-only opens never write; where SQLite cannot
   * read a WAL database in place (a folder the user may not write), they read
   * a private copy. Opening for writing says plainly when the run is read-only.
   */
  static open(run: string, opts: { readonly?: boolean; runDir?: string } = {}): SqliteRunStore {
    const { file } = resolveRunPath(run, opts.runDir);
    const readonly = opts.readonly ?? false;
    if (!readonly) {
      const denied = unwritable(file);
      if (denied) throw new StoreError(`run ${path.dirname(file)} is read-only (${denied}): it can be shown and exported, not resumed`);
    }
    try {
      return SqliteRunStore.openFile(file, file, readonly);
    } catch (e) {
      if (readonly && e instanceof InPlaceReadFailed) return SqliteRunStore.openCopy(file);
      if (e instanceof InPlaceReadFailed) throw new StoreError(`run ${path.dirname(file)} is read-only (${e.message}): it can be shown and exported, not resumed`);
      throw e;
    }
  }

  /** Reads a copy of the database (and its WAL) in a private temporary folder, removed on close. */
  private static openCopy(file: string): SqliteRunStore {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-read-'));
    try {
      const copy = path.join(tmp, DB_FILE);
      fs.copyFileSync(file, copy);
      if (fs.existsSync(`${file}-wal`)) fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
      const store = SqliteRunStore.openFile(copy, file, true);
      store.cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
      return store;
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (e instanceof InPlaceReadFailed) throw new StoreError(`cannot read run ${file}: ${e.message}`);
      if (e instanceof StoreError) throw e;
      throw new StoreError(`cannot read run ${file}: ${errorMessage(e)}`);
    }
  }

  /** Opens the database at `actual`; messages and `dir` name `file`, where the run lives. */
  private static openFile(actual: string, file: string, readonly: boolean): SqliteRunStore {
    let db: Database.Database;
    try {
      db = new Database(actual, { readonly, fileMustExist: true });
    } catch (e) {
      if (isPermissionFault(e)) throw new InPlaceReadFailed(errorMessage(e));
      throw new StoreError(`cannot open run ${file}: ${errorMessage(e)}`);
    }
    const store = new SqliteRunStore(db, file, readonly);
    try {
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      const tables = new Set(
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
      );
      for (const t of ['meta', 'children', 'members', 'counters', 'metaval', 'scores', 'log'])
        if (!tables.has(t)) throw new StoreError(`${file} is not an optevo run (no '${t}' table)`);
      // Runs made before re-evaluations and families get the columns (read-only readers see none).
      const cols = store.columns();
      if (!readonly && !cols.has('reeval')) db.exec('ALTER TABLE children ADD COLUMN reeval TEXT');
      if (!readonly && !cols.has('family')) db.exec('ALTER TABLE children ADD COLUMN family TEXT');
      // Older layouts got their columns above; a newer one is refused.
      const verdict = schemaVerdict(store.meta('version', z.number()), SCHEMA_VERSION, file);
      if (verdict.kind === 'refused') throw new StoreError(verdict.why);
      store.config(); // validates
    } catch (e) {
      db.close();
      if (e instanceof StoreError) throw e;
      // Permission faults are not damage: never call a healthy run corrupt.
      if (isPermissionFault(e)) throw new InPlaceReadFailed(errorMessage(e));
      throw new StoreError(`corrupt run ${file}: ${errorMessage(e)}`);
    }
    return store;
  }

  close(): void {
    // A writer leaves the run as one self-contained file (no -wal, no -shm), so that
    // readers, copies and read-only folders need nothing else; if a reader is still
    // attached, the switch waits for the next close.
    if (this.db.open && !this.readonly) {
      try {
        this.db.pragma('journal_mode = DELETE');
      } catch {
        // busy: stays in WAL mode, which SQLite reads as well
      }
    }
    if (this.db.open) this.db.close();
    this.cleanup?.();
    this.cleanup = undefined;
  }

  /** A checked record from a row: a row no search could have written is a `StoreError` naming the run and the child. */
  private readonly fromRow = (r: unknown): ChildRecord => {
    try {
      return childFromRow(r);
    } catch (e) {
      throw new StoreError(`corrupt run ${this.file}: ${errorMessage(e)}`);
    }
  };

  // ---- reading -------------------------------------------------------------

  private columns(): Set<string> {
    return new Set((this.db.prepare('PRAGMA table_info(children)').all() as { name: string }[]).map((r) => r.name));
  }

  /** Reference results and noise measured so far (empty for a new run). */
  calibration(): Calibration {
    // Not checked yet: zod's optional fields do not fit exactOptionalPropertyTypes' `failure?: string` (PostgreSQL casts it too).
    return (this.meta('calibration', z.unknown()) as Calibration | undefined) ?? { references: {}, noise: {} };
  }

  setCalibration(c: Calibration): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run('calibration', JSON.stringify(c));
  }

  /** Writes counters outside a commit (worker time and elapsed time at the end of a session). */
  saveCounters(c: Counters): void {
    this.writeCounters(c);
  }

  /** Changes the wall-clock budget of a resumed run (null: none). */
  setTimeBudget(timeMs: number | null): void {
    const { time: _old, ...rest } = this.config();
    const c = timeMs === null ? rest : { ...rest, time: timeMs };
    parseSearchConfig(c);
    this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(JSON.stringify(c), 'config');
  }

  /**
   * The best families: programs that differ only in their constants are one
   * family. Each with its best trained member (as in `leaderboard`) and its
   * member count (every judged child of the family with a fitness, cache hits
   * included), best first. Children stored before families are each their own.
   */
  families(limit = 10): { best: ChildRecord; members: number }[] {
    if (!this.columns().has('family')) return this.leaderboard(limit).map((best) => ({ best, members: 1 }));
    const counts = new Map<string, number>();
    for (const r of this.db
      .prepare("SELECT family, COUNT(*) AS n FROM children WHERE family IS NOT NULL AND fitness IS NOT NULL AND status IN ('ok', 'pruned', 'cached') GROUP BY family")
      .all() as { family: string; n: number }[])
      counts.set(r.family, r.n);
    const out: { best: ChildRecord; members: number }[] = [];
    const seen = new Set<string>();
    const rows = this.db
      .prepare("SELECT * FROM children WHERE status IN ('ok', 'pruned') AND fitness IS NOT NULL ORDER BY fitness DESC, id")
      .iterate();
    for (const r of rows) {
      const c = this.fromRow(r);
      const key = c.family ?? `#${c.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ best: c, members: c.family ? (counts.get(c.family) ?? 1) : 1 });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** A value of the `meta` table (JSON text), checked against its schema; undefined when absent. */
  private meta<S extends z.ZodType>(key: string, schema: S): z.output<S> | undefined {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    if (!r) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(r.value);
    } catch (e) {
      throw new StoreError(`corrupt run ${this.file}: ${key}: not JSON (${errorMessage(e)})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new StoreError(`corrupt run ${this.file}: ${formatZodError(parsed.error, `${key}: `)}`);
    return parsed.data;
  }

  info(): SqliteRunInfo {
    return {
      // The folder is the name: a copied or renamed run is found, and shown, by its folder.
      name: path.basename(path.resolve(this.dir)),
      dir: this.dir,
      file: this.file,
      createdAt: this.meta('created', z.string()) ?? '',
      status: this.meta('status', z.enum(RUN_STATUSES)) ?? 'running',
      version: this.meta('version', z.number()) ?? 0,
    };
  }

  /** The run's search configuration, validated. */
  config(): SearchConfig {
    return parseSearchConfig(this.meta('config', z.unknown()), `configuration in ${this.file}`);
  }

  /** The seed programs' source as stored when the run began. */
  seeds(): SeedSource[] {
    return this.meta('seeds', SeedsSchema) ?? [];
  }

  counters(): Counters {
    const rows = this.db.prepare('SELECT key, value FROM counters').all() as { key: string; value: string }[];
    const out: Record<string, unknown> = { ...ZERO_COUNTERS };
    for (const r of rows) out[r.key] = JSON.parse(r.value);
    const c = CountersSchema.safeParse(out);
    if (!c.success) throw new StoreError(`corrupt run ${this.file}: ${formatZodError(c.error, 'counters.')}`);
    return c.data;
  }

  /** The counters as the search reports them (rate and busy workers are live values: 0 here). */
  stats(): SearchStats {
    const c = this.counters();
    return statsOf(c, this.config().budget, { elapsedMs: c.elapsedMs, workersBusy: 0, workers: 0, rate: 0 });
  }

  child(id: number): ChildRecord | undefined {
    const r = this.db.prepare('SELECT * FROM children WHERE id = ?').get(id);
    return r ? this.fromRow(r) : undefined;
  }

  /** Children in id order, from id `from` (default 1), at most `limit`, optionally of one status. */
  children(opts: { from?: number; limit?: number; status?: ChildStatus } = {}): ChildRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM children WHERE id >= ? ${opts.status ? 'AND status = ?' : ''} ORDER BY id LIMIT ?`)
      .all(...[opts.from ?? 1, ...(opts.status ? [opts.status] : []), opts.limit ?? -1]);
    return rows.map(this.fromRow);
  }

  /** Every child in id order, one at a time (for exports of large runs). */
  *iterateChildren(): IterableIterator<ChildRecord> {
    for (const r of this.db.prepare('SELECT * FROM children ORDER BY id').iterate()) yield this.fromRow(r);
  }

  /**
   * The best distinct programs: trained children (`ok` and `pruned`, never
   * `cached` copies), by fitness or by meta-validation fitness, best first,
   * ties by id.
   */
  leaderboard(limit = 10, by: 'fitness' | 'metaval' = 'fitness'): ChildRecord[] {
    const col = by === 'metaval' ? 'metaval' : 'fitness';
    const rows = this.db
      .prepare(`SELECT * FROM children WHERE status IN ('ok', 'pruned') AND ${col} IS NOT NULL ORDER BY ${col} DESC, id LIMIT ?`)
      .all(limit);
    return rows.map(this.fromRow);
  }

  /** The population after commit `at` (default: the last), oldest first. */
  population(at?: number): Member[] {
    const n = at ?? this.counters().committed;
    const rows = this.db
      .prepare(
        'SELECT child_id AS id, fitness, added_at AS addedAt FROM members WHERE added_at <= ? AND (removed_at IS NULL OR removed_at > ?) ORDER BY added_at, child_id',
      )
      .all(n, n) as Member[];
    return rows;
  }

  /** The child, its parent, its parent's parent, ... back to a seed. */
  lineage(id: number): ChildRecord[] {
    const out: ChildRecord[] = [];
    const seen = new Set<number>();
    let c = this.child(id);
    while (c && !seen.has(c.id)) {
      out.push(c);
      seen.add(c.id);
      c = c.parent === null ? undefined : this.child(c.parent);
    }
    return out;
  }

  /** The ids and fitnesses at which the best fitness improved, in order. */
  bestHistory(): { id: number; fitness: number }[] {
    const out: { id: number; fitness: number }[] = [];
    let best = -Infinity;
    const rows = this.db.prepare("SELECT id, fitness FROM children WHERE fitness IS NOT NULL AND status IN ('ok', 'pruned', 'cached') ORDER BY id").iterate() as IterableIterator<{
      id: number;
      fitness: number;
    }>;
    for (const r of rows) {
      if (r.fitness > best) {
        best = r.fitness;
        out.push({ id: r.id, fitness: r.fitness });
      }
    }
    return out;
  }

  metavalResults(): MetavalRow[] {
    const rows = this.db.prepare('SELECT * FROM metaval ORDER BY requested_at, child_id').all() as {
      child_id: number;
      requested_at: number;
      status: string;
      fitness: number | null;
      result: string | null;
    }[];
    return rows.map((r) => {
      const where = `meta-validation of child ${r.child_id}`;
      if (!METAVAL_STATUSES.includes(r.status as MetavalRow['status']))
        throw new StoreError(`corrupt run ${this.file}: ${where}: status is '${r.status}', not one of ${METAVAL_STATUSES.join(', ')}`);
      // A failed one keeps `{ failure }` in the result column, not a suite result.
      let result: SuiteResult | null = null;
      try {
        if (r.status === 'done' && r.result) result = suiteFromJson(r.result, where);
      } catch (e) {
        throw new StoreError(`corrupt run ${this.file}: ${errorMessage(e)}`);
      }
      return { id: r.child_id, requestedAt: r.requested_at, status: r.status as MetavalRow['status'], fitness: r.fitness, result };
    });
  }

  logs(limit = 100): LogRow[] {
    const rows = this.db.prepare('SELECT at, level, message FROM log ORDER BY seq DESC LIMIT ?').all(limit) as LogRow[];
    return rows.reverse();
  }

  // ---- writing (the search only) --------------------------------------------

  private writeCounters(c: Counters): void {
    const put = this.db.prepare('INSERT INTO counters (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    for (const [k, v] of Object.entries(c)) put.run(k, JSON.stringify(v));
  }

  private insertChild(c: ChildRecord): void {
    const a = analysisColumns(c);
    this.db
      .prepare(
        `INSERT INTO children (id, parent, mutation, mutation_detail, source, simplified, hash, fingerprint, status, fitness,
           quick_fitness, standard_fitness, quick, standard, metaval, size, cached_from, failure, ms, at, reeval, family)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.id,
        c.parent,
        c.mutation,
        c.mutationDetail,
        c.source,
        a.simplified,
        a.hash,
        a.fingerprint,
        c.status,
        finiteOrNull(c.fitness),
        finiteOrNull(c.quick?.fitness),
        finiteOrNull(c.standard?.fitness),
        c.quick ? JSON.stringify(c.quick) : null,
        c.standard ? JSON.stringify(c.standard) : null,
        finiteOrNull(c.metaval),
        a.size,
        c.cachedFrom,
        c.failure,
        c.ms,
        c.at,
        c.reeval ? JSON.stringify(c.reeval) : null,
        c.family ?? null,
      );
    const score = this.db.prepare(
      'INSERT INTO scores (child_id, suite, task, score, loss, metric, lr, ms, failure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const s of [c.quick, c.standard]) {
      if (!s) continue;
      for (const t of s.tasks)
        score.run(c.id, s.suite, t.task, finiteOrNull(t.score), finiteOrNull(t.loss), finiteOrNull(t.metric), finiteOrNull(t.lr), t.ms, t.failure ?? null);
    }
  }

  /** Writes one child with everything it changes, atomically. Children must come in id order. */
  commit(k: Commit): void {
    this.db.transaction(() => {
      const expected = (this.counters().committed ?? 0) + 1;
      if (k.child.id !== expected) throw new StoreError(`commit out of order: child ${k.child.id}, expected ${expected}`);
      this.insertChild(k.child);
      const end = this.db.prepare('UPDATE members SET removed_at = ? WHERE child_id = ? AND removed_at IS NULL');
      for (const id of k.remove) end.run(k.child.id, id);
      const add = this.db.prepare('INSERT INTO members (child_id, fitness, added_at, removed_at) VALUES (?, ?, ?, NULL)');
      for (const m of k.add) add.run(m.id, m.fitness, k.child.id);
      const req = this.db.prepare("INSERT OR IGNORE INTO metaval (child_id, requested_at, status) VALUES (?, ?, 'pending')");
      for (const id of k.metaval) req.run(id, k.child.id);
      this.writeCounters(k.counters);
    })();
  }

  /** Consecutive commits in one transaction: all or none. */
  commitMany(cs: readonly Commit[]): void {
    this.db.transaction(() => {
      for (const k of cs) this.commit(k);
    })();
  }

  /** Records a meta-validation result on the child and in `metaval`. */
  setMetaval(id: number, result: SuiteResult | null, failure?: string): void {
    const fitness = finiteOrNull(result?.fitness);
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE metaval SET status = ?, fitness = ?, result = ? WHERE child_id = ?')
        .run(result && fitness !== null ? 'done' : 'failed', fitness, result ? JSON.stringify(result) : JSON.stringify({ failure }), id);
      this.db.prepare('UPDATE children SET metaval = ? WHERE id = ?').run(fitness, id);
    })();
  }

  /** Children requested for meta-validation and not yet scored. */
  pendingMetaval(): number[] {
    return (this.db.prepare("SELECT child_id FROM metaval WHERE status = 'pending' ORDER BY requested_at, child_id").all() as { child_id: number }[]).map(
      (r) => r.child_id,
    );
  }

  /** Ids already requested for meta-validation (done, failed or pending). */
  metavalRequested(): Set<number> {
    return new Set((this.db.prepare('SELECT child_id FROM metaval').all() as { child_id: number }[]).map((r) => r.child_id));
  }

  setStatus(status: RunStatus): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run('status', JSON.stringify(status));
  }

  /** Changes the budget of a resumed run; the rest of the configuration is fixed. */
  setBudget(budget: number): void {
    const c = { ...this.config(), budget };
    parseSearchConfig(c);
    this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(JSON.stringify(c), 'config');
  }

  log(level: LogLevel, message: string): void {
    this.db.prepare('INSERT INTO log (at, level, message) VALUES (?, ?, ?)').run(new Date().toISOString(), level, message);
  }
}
