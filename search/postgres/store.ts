/**
 * The run store on PostgreSQL: many runs in one database (Optuna's
 * convention), each a row of `runs` with its children, population history,
 * meta-validation and log keyed by the run's id. The same records as the
 * SQLite store (search/store.ts), read and written asynchronously.
 *
 * - Every commit is one transaction that first locks the run's row and
 *   checks the child comes next, so a run holds a prefix of its children and
 *   nothing twice. A commit retried after a lost answer from the server
 *   finds its child already there and succeeds without writing again.
 * - Readers on any machine see committed children only (read committed).
 * - Every row read is validated (rows.ts).
 */
import type { SearchConfig } from '../config.js';
import { parseSearchConfig } from '../config.js';
import { statsOf } from '../stats.js';
import { analysisColumns } from '../child-row.js';
import { CountersSchema, RUN_STATUSES, SeedsSchema } from '../stored-schemas.js';
import type { RunStore } from '../run-store.js';
import type { Commit, LogRow, MetavalRow, RunStatus, SeedSource } from '../store.js';
import { ZERO_COUNTERS, type Calibration, type ChildRecord, type ChildStatus, type Counters, type Member, type SearchStats, type SuiteResult } from '../types.js';
import { PgStoreError, type Connection } from './connection.js';
import { childFromPgRow, finiteOrNull, parseRow, suiteFromText } from './rows.js';
import { ensureSchema, PG_SCHEMA_VERSION } from './schema.js';
import { z } from 'zod';

/** What a worker must match to evaluate a run's jobs: scores from anything else may differ. */
export interface RunRequirements {
  optevo: string;
  /** The tfjs backend every evaluation of the run uses. */
  backend: string;
  /** The user's tasks module, by content: workers need a file with this hash. */
  tasksModule: { path: string; sha256: string } | null;
}

export const RequirementsSchema = z
  .object({
    optevo: z.string(),
    backend: z.string(),
    tasksModule: z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  })
  .strict();


const RunRowSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  created_at: z.date(),
  status: z.enum(RUN_STATUSES),
  config: z.unknown(),
  seeds: z.unknown(),
  requirements: z.unknown(),
  counters: z.unknown(),
});

export interface PgRunInfo {
  name: string;
  /** How a command line names the run (`NAME --store URL`, redacted): what `resume with` and `inspect with` print. */
  dir: string;
  file: string;
  createdAt: string;
  status: RunStatus;
  version: number;
}

const CHILD_COLUMNS =
  'id, parent, mutation, mutation_detail, source, simplified, hash, fingerprint, status, fitness, quick, standard, metaval, size, cached_from, failure, ms, at, reeval, family';

/** Run names: what a shell and a URL carry without quoting. */
export function checkRunName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new PgStoreError(`run name '${name}' must be letters, digits, '.', '_' and '-' (at most 100), starting with a letter or digit`);
  return name;
}

/** What the commit statement answers: whether it wrote, and what is there (for a retry after a lost answer). */
interface CommitRow {
  done: number;
  committed: number | null;
  hash: string | null;
  source: string | null;
}

export class PgRunStore implements RunStore {
  readonly db: Connection;
  readonly id: number;
  readonly name: string;
  readonly readonly: boolean;
  private cachedConfig: SearchConfig;
  private readonly seedList: SeedSource[];
  private readonly reqs: RunRequirements;
  private readonly created: string;
  private readonly t: string;
  private lastStatus: RunStatus;

  private constructor(db: Connection, row: z.infer<typeof RunRowSchema>, readonly: boolean) {
    this.db = db;
    this.id = row.id;
    this.name = row.name;
    this.readonly = readonly;
    this.t = db.location.schema;
    this.created = row.created_at.toISOString();
    this.lastStatus = row.status;
    this.cachedConfig = parseSearchConfig(row.config, `configuration of run ${row.name} in ${db.display}`);
    this.seedList = parseRow(SeedsSchema, row.seeds, `seeds of run ${row.name}`);
    this.reqs = parseRow(RequirementsSchema, row.requirements, `requirements of run ${row.name}`);
  }

  /** How a command line names this run: `NAME --store URL` (the URL redacted). */
  get location(): string {
    return `${this.name} --store ${this.db.display}`;
  }

  /** Makes a new run; a run of that name must not exist yet. */
  static async create(
    db: Connection,
    init: { name: string; config: SearchConfig; seeds: SeedSource[]; requirements: RunRequirements },
  ): Promise<PgRunStore> {
    checkRunName(init.name);
    await ensureSchema(db, 'write');
    const s = db.location.schema;
    const r = await db.query(
      `INSERT INTO ${s}.runs (name, status, config, seeds, requirements, counters) VALUES ($1, 'running', $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING RETURNING *`,
      [init.name, JSON.stringify(init.config), JSON.stringify(init.seeds), JSON.stringify(init.requirements), JSON.stringify(ZERO_COUNTERS)],
    );
    if (r.rows.length === 0)
      throw new PgStoreError(`a run named '${init.name}' already exists at ${db.display} (resume it with --resume ${init.name}, or choose another --name)`);
    return new PgRunStore(db, parseRow(RunRowSchema, r.rows[0], `run ${init.name}`), false);
  }

  static async open(db: Connection, name: string, opts: { readonly?: boolean } = {}): Promise<PgRunStore> {
    const readonly = opts.readonly ?? false;
    await ensureSchema(db, readonly ? 'read' : 'write');
    const s = db.location.schema;
    const r = await db.query(`SELECT * FROM ${s}.runs WHERE name = $1`, [name]);
    if (r.rows.length === 0) {
      const names = (await db.query<{ name: string }>(`SELECT name FROM ${s}.runs ORDER BY created_at DESC LIMIT 5`)).rows.map((x) => x.name);
      throw new PgStoreError(`no run '${name}' at ${db.display}${names.length ? ` (recent runs: ${names.join(', ')})` : ' (it holds no runs)'}`);
    }
    return new PgRunStore(db, parseRow(RunRowSchema, r.rows[0], `run ${name}`), readonly);
  }

  /** Every run in the store, newest first. */
  static async list(db: Connection): Promise<{ id: number; name: string; createdAt: string; status: RunStatus; counters: Counters; budget: number }[]> {
    await ensureSchema(db, 'read');
    const s = db.location.schema;
    const r = await db.query(`SELECT * FROM ${s}.runs ORDER BY created_at DESC, name`);
    return r.rows.map((row) => {
      const run = parseRow(RunRowSchema, row, 'run');
      const config = parseSearchConfig(run.config, `configuration of run ${run.name}`);
      return { id: run.id, name: run.name, createdAt: run.created_at.toISOString(), status: run.status, counters: parseRow(CountersSchema, run.counters, `counters of run ${run.name}`), budget: config.budget };
    });
  }

  async close(): Promise<void> {
    // The connection belongs to the caller, who may hold other stores on it.
  }

  // ---- reading -------------------------------------------------------------

  private async runRow(): Promise<z.infer<typeof RunRowSchema>> {
    const r = await this.db.query(`SELECT * FROM ${this.t}.runs WHERE id = $1`, [this.id]);
    if (r.rows.length === 0) throw new PgStoreError(`run '${this.name}' is gone from ${this.db.display}`);
    return parseRow(RunRowSchema, r.rows[0], `run ${this.name}`);
  }

  /** The run's identity, and its status when opened or last set here (`status()` reads the current one). */
  info(): PgRunInfo {
    return { name: this.name, dir: this.location, file: this.location, createdAt: this.created, status: this.lastStatus, version: PG_SCHEMA_VERSION };
  }

  async status(): Promise<RunStatus> {
    this.lastStatus = (await this.runRow()).status;
    return this.lastStatus;
  }

  config(): SearchConfig {
    return this.cachedConfig;
  }

  seeds(): SeedSource[] {
    return this.seedList;
  }

  requirements(): RunRequirements {
    return this.reqs;
  }

  async counters(): Promise<Counters> {
    const r = await this.db.query(`SELECT counters FROM ${this.t}.runs WHERE id = $1`, [this.id]);
    return parseRow(CountersSchema, r.rows[0]?.counters, `counters of run ${this.name}`);
  }

  async stats(): Promise<SearchStats> {
    const row = await this.runRow();
    const c = parseRow(CountersSchema, row.counters, `counters of run ${this.name}`);
    const config = parseSearchConfig(row.config, `configuration of run ${this.name}`);
    return statsOf(c, config.budget, { elapsedMs: c.elapsedMs, workersBusy: 0, workers: 0, rate: 0 });
  }

  private children_(where: string, values: unknown[], tail = 'ORDER BY id'): Promise<ChildRecord[]> {
    return this.db
      .query(`SELECT ${CHILD_COLUMNS} FROM ${this.t}.children WHERE run_id = $1 ${where} ${tail}`, [this.id, ...values])
      .then((r) => r.rows.map((row) => childFromPgRow(row, `child of run ${this.name}`)));
  }

  async child(id: number): Promise<ChildRecord | undefined> {
    return (await this.children_('AND id = $2', [id]))[0];
  }

  async children(opts: { from?: number; limit?: number; status?: ChildStatus } = {}): Promise<ChildRecord[]> {
    const values: unknown[] = [opts.from ?? 1];
    let where = 'AND id >= $2';
    if (opts.status) {
      values.push(opts.status);
      where += ` AND status = $${values.length + 1}`;
    }
    let tail = 'ORDER BY id';
    if (opts.limit !== undefined && opts.limit >= 0) {
      values.push(opts.limit);
      tail += ` LIMIT $${values.length + 1}`;
    }
    return this.children_(where, values, tail);
  }

  /** Every child in id order, a page at a time (for exports of large runs). */
  async *iterateChildren(page = 500): AsyncIterableIterator<ChildRecord> {
    let from = 1;
    for (;;) {
      const rows = await this.children({ from, limit: page });
      for (const c of rows) yield c;
      if (rows.length < page) return;
      from = rows[rows.length - 1]!.id + 1;
    }
  }

  /** As the SQLite store's: trained children (`ok`, `pruned`) best first, ties by id. */
  async leaderboard(limit = 10, by: 'fitness' | 'metaval' = 'fitness'): Promise<ChildRecord[]> {
    const col = by === 'metaval' ? 'metaval' : 'fitness';
    return this.children_(`AND status IN ('ok', 'pruned') AND ${col} IS NOT NULL`, [limit], `ORDER BY ${col} DESC, id LIMIT $2`);
  }

  /** The population after commit `at` (default: the last), oldest first. */
  async population(at?: number): Promise<Member[]> {
    const n = at ?? (await this.counters()).committed;
    const r = await this.db.query(
      `SELECT child_id AS id, fitness, added_at AS "addedAt" FROM ${this.t}.members
       WHERE run_id = $1 AND added_at <= $2 AND (removed_at IS NULL OR removed_at > $2) ORDER BY added_at, child_id`,
      [this.id, n],
    );
    return r.rows.map((row) => parseRow(z.object({ id: z.number().int(), fitness: z.number(), addedAt: z.number().int() }), row, `member of run ${this.name}`));
  }

  /** The whole population history, for a resume to rebuild any earlier population in memory. */
  async memberHistory(): Promise<{ id: number; fitness: number; addedAt: number; removedAt: number | null }[]> {
    const r = await this.db.query(
      `SELECT child_id AS id, fitness, added_at AS "addedAt", removed_at AS "removedAt" FROM ${this.t}.members WHERE run_id = $1 ORDER BY added_at, child_id`,
      [this.id],
    );
    const row = z.object({ id: z.number().int(), fitness: z.number(), addedAt: z.number().int(), removedAt: z.number().int().nullable() });
    return r.rows.map((x) => parseRow(row, x, `member of run ${this.name}`));
  }

  async lineage(id: number): Promise<ChildRecord[]> {
    const out: ChildRecord[] = [];
    const seen = new Set<number>();
    let c = await this.child(id);
    while (c && !seen.has(c.id)) {
      out.push(c);
      seen.add(c.id);
      c = c.parent === null ? undefined : await this.child(c.parent);
    }
    return out;
  }

  async bestHistory(): Promise<{ id: number; fitness: number }[]> {
    const r = await this.db.query(
      `SELECT id, fitness FROM ${this.t}.children WHERE run_id = $1 AND fitness IS NOT NULL AND status IN ('ok', 'pruned', 'cached') ORDER BY id`,
      [this.id],
    );
    const out: { id: number; fitness: number }[] = [];
    let best = -Infinity;
    for (const row of r.rows) {
      const x = parseRow(z.object({ id: z.number().int(), fitness: z.number() }), row, `child of run ${this.name}`);
      if (x.fitness > best) {
        best = x.fitness;
        out.push(x);
      }
    }
    return out;
  }

  async metavalResults(): Promise<MetavalRow[]> {
    const r = await this.db.query(`SELECT child_id, requested_at, status, fitness, result FROM ${this.t}.metaval WHERE run_id = $1 ORDER BY requested_at, child_id`, [
      this.id,
    ]);
    const row = z.object({
      child_id: z.number().int(),
      requested_at: z.number().int(),
      status: z.enum(['pending', 'done', 'failed']),
      fitness: z.number().nullable(),
      result: z.string().nullable(),
    });
    return r.rows.map((x) => {
      const m = parseRow(row, x, `meta-validation of run ${this.name}`);
      let result: SuiteResult | null = null;
      if (m.status === 'done') result = suiteFromText(m.result, `meta-validation of child ${m.child_id}`);
      return { id: m.child_id, requestedAt: m.requested_at, status: m.status, fitness: m.fitness, result };
    });
  }

  async logs(limit = 100): Promise<LogRow[]> {
    const r = await this.db.query(`SELECT at, level, message FROM ${this.t}.log WHERE run_id = $1 ORDER BY seq DESC LIMIT $2`, [this.id, limit]);
    const row = z.object({ at: z.date(), level: z.enum(['info', 'warn', 'error']), message: z.string() });
    return r.rows.map((x) => parseRow(row, x, `log of run ${this.name}`)).map((x) => ({ ...x, at: x.at.toISOString() })).reverse();
  }

  async pendingMetaval(): Promise<number[]> {
    const r = await this.db.query(`SELECT child_id FROM ${this.t}.metaval WHERE run_id = $1 AND status = 'pending' ORDER BY requested_at, child_id`, [this.id]);
    return r.rows.map((x) => parseRow(z.object({ child_id: z.number().int() }), x, 'meta-validation').child_id);
  }

  /** Ids ever requested for meta-validation (done, failed or pending). */
  async metavalRequested(): Promise<Set<number>> {
    const r = await this.db.query(`SELECT child_id FROM ${this.t}.metaval WHERE run_id = $1`, [this.id]);
    return new Set(r.rows.map((x) => parseRow(z.object({ child_id: z.number().int() }), x, 'meta-validation').child_id));
  }

  // ---- writing (the coordinator only) ---------------------------------------

  private writable(): void {
    if (this.readonly) throw new PgStoreError(`run '${this.name}' was opened read-only`);
  }

  /**
   * Writes one child with everything it changes, atomically. Children must
   * come in id order. One statement, one round trip: the coordinator commits
   * children one after another, so a commit's latency bounds the run's pace.
   */
  async commit(k: Commit): Promise<void> {
    await this.commitMany([k]);
  }

  /**
   * Consecutive commits as one statement: one round trip and one disk flush
   * for the lot, all or none. The statement writes only if the run's last
   * child is the one before the first; a retry whose first try went through
   * (its answer lost) finds the last child there and is done.
   */
  async commitMany(cs: readonly Commit[]): Promise<void> {
    this.writable();
    if (cs.length === 0) return;
    const first = cs[0]!.child;
    const last = cs.at(-1)!.child;
    cs.forEach((k, i) => {
      if (k.child.id !== first.id + i) throw new PgStoreError(`commit out of order: child ${k.child.id} after child ${first.id + i - 1} in one write`);
    });
    const { result: r, sends } = await this.db.queryCounted<CommitRow>(
      this.commitSql,
      this.groupValues(cs),
      cs.length === 1 ? `commit of child ${first.id}` : `commit of children ${first.id} to ${last.id}`,
    );
    const row = r.rows[0];
    if (row?.done === 1) return;
    const committed = row?.committed ?? 0;
    if (sends > 1 && committed >= last.id && row?.source === last.source && row?.hash === analysisColumns(last).hash) return;
    if (committed >= first.id) throw new PgStoreError(`commit out of order: child ${first.id}, but run '${this.name}' has ${committed} children`);
    throw new PgStoreError(`commit out of order: child ${first.id}, expected ${committed + 1}`);
  }

  /**
   * The statement's arrays, one element per child, score, stay or request.
   * Stays opened and closed within the group are written closed: the
   * statement's parts all see the table as it was before it.
   */
  private groupValues(cs: readonly Commit[]): unknown[] {
    const kids: unknown[][] = Array.from({ length: 22 }, () => []);
    const scores: unknown[][] = Array.from({ length: 9 }, () => []);
    const stays: { id: number; fitness: number; added: number; removed: number | null }[] = [];
    const openHere = new Map<number, (typeof stays)[number]>();
    const closeBefore = new Map<number, number>();
    const asked = new Map<number, number>();
    for (const k of cs) {
      const c = k.child;
      const a = analysisColumns(c);
      [
        c.id, c.parent, c.mutation, c.mutationDetail, c.source, a.simplified, a.hash, a.fingerprint, c.status,
        finiteOrNull(c.fitness), finiteOrNull(c.quick?.fitness), finiteOrNull(c.standard?.fitness),
        c.quick ? JSON.stringify(c.quick) : null, c.standard ? JSON.stringify(c.standard) : null,
        finiteOrNull(c.metaval), a.size, c.cachedFrom, c.failure, c.ms, c.at,
        c.reeval ? JSON.stringify(c.reeval) : null, c.family ?? null,
      ].forEach((v, i) => kids[i]!.push(v));
      for (const s of [c.quick, c.standard]) {
        if (!s) continue;
        for (const x of s.tasks)
          [c.id, s.suite, x.task, finiteOrNull(x.score), finiteOrNull(x.loss), finiteOrNull(x.metric), finiteOrNull(x.lr), x.ms, x.failure ?? null].forEach(
            (v, i) => scores[i]!.push(v),
          );
      }
      // As one commit at a time: removals end the stays open before this commit, then the additions begin.
      for (const id of k.remove) {
        const here = openHere.get(id);
        if (here) {
          here.removed = c.id;
          openHere.delete(id);
        } else if (!closeBefore.has(id)) closeBefore.set(id, c.id);
      }
      for (const m of k.add) {
        const stay = { id: m.id, fitness: m.fitness, added: c.id, removed: null };
        stays.push(stay);
        openHere.set(m.id, stay);
      }
      // A child asked for twice keeps its first request.
      for (const id of k.metaval) if (!asked.has(id)) asked.set(id, c.id);
    }
    return [
      this.id,
      cs[0]!.child.id,
      cs.at(-1)!.child.id,
      ...kids,
      ...scores,
      [...closeBefore.keys()],
      [...closeBefore.values()],
      stays.map((x) => x.id),
      stays.map((x) => x.fitness),
      stays.map((x) => x.added),
      stays.map((x) => x.removed),
      [...asked.keys()],
      [...asked.values()],
      JSON.stringify(cs.at(-1)!.counters),
    ];
  }

  private get commitSql(): string {
    const t = this.t;
    return `
      WITH cur AS (SELECT (counters->>'committed')::int AS committed FROM ${t}.runs WHERE id = $1 FOR UPDATE),
      ok AS (SELECT 1 FROM cur WHERE committed = $2 - 1),
      child AS (
        INSERT INTO ${t}.children (run_id, id, parent, mutation, mutation_detail, source, simplified, hash, fingerprint, status, fitness,
          quick_fitness, standard_fitness, quick, standard, metaval, size, cached_from, failure, ms, at, reeval, family)
        SELECT $1, u.* FROM ok, unnest($4::int[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
          $13::float8[], $14::float8[], $15::float8[], $16::text[], $17::text[], $18::float8[], $19::int[], $20::int[], $21::text[], $22::float8[],
          $23::text[], $24::text[], $25::text[]) AS u),
      score AS (
        INSERT INTO ${t}.scores (run_id, child_id, suite, task, score, loss, metric, lr, ms, failure)
        SELECT $1, u.* FROM ok, unnest($26::int[], $27::text[], $28::text[], $29::float8[], $30::float8[], $31::float8[], $32::float8[], $33::float8[], $34::text[]) AS u),
      leave AS (
        UPDATE ${t}.members m SET removed_at = u.at FROM ok, unnest($35::int[], $36::int[]) AS u(id, at)
         WHERE m.run_id = $1 AND m.child_id = u.id AND m.removed_at IS NULL),
      join_ AS (
        INSERT INTO ${t}.members (run_id, child_id, fitness, added_at, removed_at)
        SELECT $1, u.* FROM ok, unnest($37::int[], $38::float8[], $39::int[], $40::int[]) AS u),
      ask AS (
        INSERT INTO ${t}.metaval (run_id, child_id, requested_at, status) SELECT $1, u.id, u.at, 'pending' FROM ok, unnest($41::int[], $42::int[]) AS u(id, at)
        ON CONFLICT DO NOTHING),
      up AS (UPDATE ${t}.runs SET counters = $43 WHERE id = $1 AND EXISTS (SELECT 1 FROM ok) RETURNING 1)
      SELECT (SELECT count(*)::int FROM up) AS done, (SELECT committed FROM cur) AS committed,
        (SELECT hash FROM ${t}.children WHERE run_id = $1 AND id = $3) AS hash, (SELECT source FROM ${t}.children WHERE run_id = $1 AND id = $3) AS source`;
  }

  async setMetaval(id: number, result: SuiteResult | null, failure?: string): Promise<void> {
    this.writable();
    const fitness = finiteOrNull(result?.fitness);
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE ${this.t}.metaval SET status = $3, fitness = $4, result = $5 WHERE run_id = $1 AND child_id = $2`, [
        this.id,
        id,
        result && fitness !== null ? 'done' : 'failed',
        fitness,
        result ? JSON.stringify(result) : JSON.stringify({ failure }),
      ]);
      await tx.query(`UPDATE ${this.t}.children SET metaval = $3 WHERE run_id = $1 AND id = $2`, [this.id, id, fitness]);
    }, 'meta-validation result');
  }

  async setStatus(status: RunStatus): Promise<void> {
    this.writable();
    await this.db.query(`UPDATE ${this.t}.runs SET status = $2 WHERE id = $1`, [this.id, status]);
    this.lastStatus = status;
  }

  async setBudget(budget: number): Promise<void> {
    this.writable();
    const c = parseSearchConfig({ ...this.cachedConfig, budget });
    await this.db.query(`UPDATE ${this.t}.runs SET config = $2 WHERE id = $1`, [this.id, JSON.stringify(c)]);
    this.cachedConfig = c;
  }

  /** Reference results and noise measured so far (empty for a new run). */
  async calibration(): Promise<Calibration> {
    const r = await this.db.query(`SELECT calibration FROM ${this.t}.runs WHERE id = $1`, [this.id]);
    const c = r.rows[0]?.calibration as Calibration | null | undefined;
    return c ?? { references: {}, noise: {} };
  }

  async setCalibration(c: Calibration): Promise<void> {
    this.writable();
    await this.db.query(`UPDATE ${this.t}.runs SET calibration = $2 WHERE id = $1`, [this.id, JSON.stringify(c)]);
  }

  /** Writes counters outside a commit (worker time and elapsed time at the end of a session). */
  async saveCounters(c: Counters): Promise<void> {
    this.writable();
    await this.db.query(`UPDATE ${this.t}.runs SET counters = $2 WHERE id = $1`, [this.id, JSON.stringify(c)]);
  }

  /** Changes the wall-clock budget of a resumed run (null: none). */
  async setTimeBudget(timeMs: number | null): Promise<void> {
    this.writable();
    const { time: _old, ...rest } = this.cachedConfig;
    const c = parseSearchConfig(timeMs === null ? rest : { ...rest, time: timeMs });
    await this.db.query(`UPDATE ${this.t}.runs SET config = $2 WHERE id = $1`, [this.id, JSON.stringify(c)]);
    this.cachedConfig = c;
  }

  /** As the SQLite store's: the best member of each family, with the family's judged count, best first. */
  async families(limit = 10): Promise<{ best: ChildRecord; members: number }[]> {
    const counts = new Map<string, number>();
    const r = await this.db.query<{ family: string; n: number }>(
      `SELECT family, count(*)::int AS n FROM ${this.t}.children WHERE run_id = $1 AND family IS NOT NULL AND fitness IS NOT NULL AND status IN ('ok', 'pruned', 'cached') GROUP BY family`,
      [this.id],
    );
    for (const row of r.rows) counts.set(row.family, row.n);
    const best = await this.children_(
      `AND status IN ('ok', 'pruned') AND fitness IS NOT NULL AND (family IS NULL OR id IN (SELECT DISTINCT ON (family) id FROM ${this.t}.children
         WHERE run_id = $1 AND family IS NOT NULL AND status IN ('ok', 'pruned') AND fitness IS NOT NULL ORDER BY family, fitness DESC, id))`,
      [limit],
      'ORDER BY fitness DESC, id LIMIT $2',
    );
    return best.map((c) => ({ best: c, members: c.family ? (counts.get(c.family) ?? 1) : 1 }));
  }

  /** Appends a line to the run's log (the coordinator's warnings, workers' refusals). */
  async log(level: LogRow['level'], message: string): Promise<void> {
    await this.db.query(`INSERT INTO ${this.t}.log (run_id, level, message) VALUES ($1, $2, $3)`, [this.id, level, message]);
  }

  /** Deletes the run and everything it holds (tests and `optevo runs --delete`). */
  async destroy(): Promise<void> {
    this.writable();
    await this.db.query(`DELETE FROM ${this.t}.runs WHERE id = $1`, [this.id]);
  }
}
