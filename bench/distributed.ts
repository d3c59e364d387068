/**
 * Figures for runs across machines (issue 12), on the machine's PostgreSQL
 * (OPTEVO_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/postgres;
 * each figure makes and drops its own database):
 *
 *  overhead  jobs dispatched and committed per second through PostgreSQL
 *            with a no-op evaluator (one worker process taking 32 jobs at a
 *            time; results in by the time of a commit are committed in one
 *            write, as the search does), against the in-process no-op
 *            executor and SQLite; then the same for whole searches;
 *  scaling   real quick-suite evaluations (wasm) by 1, 2 and 4 worker
 *            processes of 1 thread each: children per hour after a warm-up;
 *  identity  the export of a 1-worker SQLite run against the same seed on
 *            PostgreSQL with 3 worker processes, one killed mid-run.
 *
 * Run: npm run build && node dist/bench/distributed.js FIGURE
 * Writes .bench/distributed-FIGURE.json.
 */
import { ZERO_COUNTERS } from '../search/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startSearch } from '../search/evolution.js';
import { Connection } from '../search/postgres/connection.js';
import { QueueExecutor } from '../search/postgres/executor.js';
import { PgRunStore } from '../search/postgres/store.js';
import { parseStoreUrl } from '../search/postgres/url.js';
import { SearchConfigSchema, type SearchConfig } from '../search/config.js';
import { SqliteRunStore } from '../search/store.js';
import type { EvalJob, EvalOutcome, Executor, SearchStats } from '../search/types.js';
import { OPTEVO_VERSION } from '../search/version.js';
import { seedSource } from '../seeds/index.js';
import { serve } from '../src/serve.js';
import { WorkerPool } from '../src/pool.js';

const OUT = '.bench';
fs.mkdirSync(OUT, { recursive: true });
const ADMIN = process.env.OPTEVO_BENCH_PG ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const self = fileURLToPath(import.meta.url);
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function withDatabase<T>(tag: string, f: (url: string) => Promise<T>): Promise<T> {
  const name = `optevo_bench_${tag}_${process.pid}`;
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(ADMIN);
  u.pathname = `/${name}`;
  try {
    return await f(u.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Scores a program by its text at once: what is measured is everything but evaluation. */
function noopOutcome(job: EvalJob): EvalOutcome {
  let h = 0;
  for (let i = 0; i < job.source.length; i++) h = (h * 31 + job.source.charCodeAt(i)) >>> 0;
  const fitness = (h % 1000) / 1000;
  return { ok: true, result: { suite: job.suite, fitness, ms: 0, tasks: [{ task: 'noop', lr: 1, loss: 1 - fitness, metric: 1 - fitness, score: fitness, curve: [], ms: 0 }] } };
}

function noopExecutor(size: number): Executor & { jobs: number } {
  const ex = {
    size,
    jobs: 0,
    busy: () => 0,
    evaluate: async (job: EvalJob) => {
      ex.jobs++;
      return noopOutcome(job);
    },
    close: async () => {},
  };
  return ex;
}

function config(over: Partial<SearchConfig>): SearchConfig {
  return SearchConfigSchema.parse({
    seed: 5,
    budget: 1000,
    population: 50,
    tournament: 5,
    seeds: ['adamw'],
    restartAfter: 0,
    mutationWeights: { insert: 1, delete: 1, modify: 1 },
    maxStatements: 30,
    stateSlots: 2,
    hurdle: 0.5,
    suite: 'quick',
    metavalEvery: 0,
    metavalTop: 1,
    batch: 64,
    lrs: [],
    evalSeed: 5,
    ...over,
  });
}

/** CPU seconds a process has used so far (Linux /proc; 0 where unreadable). */
function cpuOfPid(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the server processes serving one database now (pooled connections live through a figure). */
async function serverCpu(db: Connection): Promise<number> {
  const r = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  return r.rows.reduce((s, x) => s + cpuOfPid(x.pid), 0);
}

function start(args: string[]): ChildProcess {
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr.on('data', (d: Buffer) => {
    const s = d.toString();
    if (/error|refuses/i.test(s)) process.stderr.write(`  [worker ${p.pid}] ${s}`);
  });
  return p;
}

const exited = (p: ChildProcess) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once('exit', () => r())));

async function stopAll(ps: ChildProcess[]): Promise<void> {
  for (const p of ps) if (p.exitCode === null) p.kill('SIGTERM');
  await Promise.all(ps.map(exited));
}

interface Timed {
  stats: SearchStats;
  wallS: number;
  cpuS: number;
  jobs: number;
  /** Children after the warm-up and their seconds. */
  steady: { judged: number; s: number };
}

/** Runs a search to its budget, timing it after `warmup` children. */
async function timed(store: SqliteRunStore | PgRunStore, executor: Executor, warmup: number, jobsOf: () => number): Promise<Timed> {
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  let tw: number | null = null;
  let jw = 0;
  const h = startSearch({ store, executor });
  h.subscribe((e) => {
    if (e.type === 'child' && e.child.id === warmup) {
      tw = Date.now();
      jw = e.stats.judged;
    }
  });
  const stats = await h.done;
  const t1 = Date.now();
  const c = process.cpuUsage(c0);
  return {
    stats,
    wallS: (t1 - t0) / 1000,
    cpuS: (c.user + c.system) / 1e6,
    jobs: jobsOf(),
    steady: { judged: stats.judged - jw, s: tw === null ? 0 : (t1 - tw) / 1000 },
  };
}

function write(figure: string, data: unknown): void {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `distributed-${figure}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
}

async function pgRun(url: string, name: string, cfg: SearchConfig, backend: string): Promise<{ db: Connection; store: PgRunStore; ex: QueueExecutor; jobs: () => number }> {
  const db = new Connection(parseStoreUrl(url));
  const store = await PgRunStore.create(db, {
    name,
    config: cfg,
    seeds: cfg.seeds.map((s) => ({ name: s, source: seedSource(s) })),
    requirements: { optevo: OPTEVO_VERSION, backend, tasksModule: null },
  });
  const ex = await QueueExecutor.start(db, store, { timeoutMs: 120_000, pollMs: 200 });
  const jobs = () => 0;
  return { db, store, ex, jobs };
}

async function jobCount(db: Connection): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${db.location.schema}.results`);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * The queue alone: `n` jobs, 64 in flight (a search's batch), their results
 * committed as children in id order as the search does (every result in by
 * then, up to 64, in one store write); against the same loop with the
 * in-process executor and SQLite.
 */
async function drive(n: number, executor: Executor, commit: (group: [number, EvalOutcome][]) => Promise<void> | void): Promise<{ jobsPerS: number; wallS: number; cpuS: number; writes: number }> {
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  const pending = new Map<number, Promise<EvalOutcome>>();
  const done = new Map<number, EvalOutcome>();
  const source = seedSource('adamw');
  let next = 1;
  let writes = 0;
  const fill = () => {
    while (next <= n && pending.size < 64) {
      const id = next++;
      pending.set(
        id,
        executor.evaluate({ childId: id, source: `${source}\n# ${id}`, suite: 'quick', seed: 1, lrs: [1] }).then((o) => {
          done.set(id, o);
          return o;
        }),
      );
    }
  };
  fill();
  for (let id = 1; id <= n; ) {
    await pending.get(id)!;
    const group: [number, EvalOutcome][] = [];
    for (; id <= n && done.has(id) && group.length < 64; id++) {
      group.push([id, done.get(id)!]);
      done.delete(id);
      pending.delete(id);
    }
    await commit(group);
    writes++;
    fill();
  }
  const c = process.cpuUsage(c0);
  const wallS = (Date.now() - t0) / 1000;
  return { jobsPerS: n / wallS, wallS, cpuS: (c.user + c.system) / 1e6, writes };
}

function childOf(id: number, o: EvalOutcome): import('../search/types.js').ChildRecord {
  const result = o.ok ? o.result : null;
  return {
    id, parent: id > 1 ? id - 1 : null, mutation: id > 1 ? 'modify' : 'seed', mutationDetail: 'bench', source: `# ${id}`, metaval: null, ms: 0, at: '',
    simplified: `# ${id}`, hash: `h${id}`, fingerprint: `f${id}`, size: 1,
    status: 'ok', fitness: result?.fitness ?? 0, quick: result!, standard: null, cachedFrom: null, failure: null,
  } as import('../search/types.js').ChildRecord;
}

async function overhead(): Promise<void> {
  const n = Number(process.argv[4] ?? 3000);
  const zero = ZERO_COUNTERS;
  const cfgQ = config({ budget: n });
  const dirQ = fs.mkdtempSync(path.join(OUT, 'queue-'));
  const liteQ = SqliteRunStore.create(path.join(dirQ, 'q'), { config: cfgQ, seeds: [{ name: 'adamw', source: seedSource('adamw') }] });
  const commitOf = (id: number, o: EvalOutcome) => ({ child: childOf(id, o), add: [], remove: [], counters: { ...zero, committed: id, ok: id }, metaval: [] });
  const queueLocal = await drive(n, noopExecutor(32), (g) => liteQ.commitMany(g.map(([id, o]) => commitOf(id, o))));
  liteQ.close();
  fs.rmSync(dirQ, { recursive: true, force: true });
  const queuePg = await withDatabase('queue', async (url) => {
    const { db, store, ex } = await pgRun(url, 'queue', cfgQ, 'cpu');
    const worker = start([self, 'serve-noop', url, '32']);
    const server0 = await serverCpu(db);
    const worker0 = cpuOfPid(worker.pid!);
    const r = await drive(n, ex, (g) => store.commitMany(g.map(([id, o]) => commitOf(id, o))));
    const cpu = { coordinatorS: r.cpuS, workerS: cpuOfPid(worker.pid!) - worker0, serverS: (await serverCpu(db)) - server0 };
    const totalS = cpu.coordinatorS + cpu.workerS + cpu.serverS;
    await ex.close();
    await stopAll([worker]);
    await db.close();
    return { ...r, cpu, jobsPerCpuS: n / totalS };
  });
  process.stderr.write(`  queue alone: ${queuePg.jobsPerS.toFixed(0)} jobs/s through PostgreSQL, ${queueLocal.jobsPerS.toFixed(0)} in process\n`);

  const budget = Number(process.argv[3] ?? 2000);
  const cfg = config({ budget });
  const dir = fs.mkdtempSync(path.join(OUT, 'overhead-'));
  const lite = SqliteRunStore.create(path.join(dir, 'local'), { config: cfg, seeds: [{ name: 'adamw', source: seedSource('adamw') }] });
  const local = noopExecutor(32);
  const inProcess = await timed(lite, local, 50, () => local.jobs);
  lite.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const viaPg = await withDatabase('overhead', async (url) => {
    const { db, store, ex } = await pgRun(url, 'overhead', cfg, 'cpu');
    const worker = start([self, 'serve-noop', url, '32']);
    const t = await timed(store, ex, 50, () => 0);
    t.jobs = await jobCount(db);
    await ex.close();
    await stopAll([worker]);
    await db.close();
    return t;
  });
  const rate = (t: Timed) => ({ jobsPerS: t.jobs / t.wallS, childrenPerS: t.stats.judged / t.wallS, jobs: t.jobs, children: t.stats.judged, wallS: t.wallS, coordinatorCpuS: t.cpuS });
  write('overhead', {
    queueAlone: {
      jobs: n,
      inFlight: 64,
      postgres: queuePg,
      inProcessSqlite: { ...queueLocal, jobsPerCpuS: n / queueLocal.cpuS },
      wallRatio: queuePg.jobsPerS / queueLocal.jobsPerS,
      note: 'wall rates on a shared 2-core machine are latency-bound; jobsPerCpuS counts the CPU of coordinator, worker process and PostgreSQL backends',
    },
    settings: { budget, batch: cfg.batch, evaluator: 'no-op (fitness from a hash of the source)', workerConcurrency: 32 },
    inProcessSqlite: rate(inProcess),
    postgresQueue: rate(viaPg),
    ratio: viaPg.jobs / viaPg.wallS / (inProcess.jobs / inProcess.wallS),
  });
}

async function scaling(): Promise<void> {
  const budget = Number(process.argv[3] ?? 90);
  const warmup = 30;
  const cfg = config({ budget, population: 30, tournament: 3, batch: 16 });
  const out: Record<string, unknown> = {};
  const rates: number[] = [];
  for (const n of [1, 2, 4]) {
    const t = await withDatabase(`scaling${n}`, async (url) => {
      const { db, store, ex } = await pgRun(url, `scaling-${n}`, cfg, 'wasm');
      const workers = Array.from({ length: n }, () => start([cli, 'worker', '--store', url, '--workers', '1']));
      const r = await timed(store, ex, warmup, () => 0);
      r.jobs = await jobCount(db);
      await ex.close();
      await stopAll(workers);
      await db.close();
      return r;
    });
    const perHour = t.steady.s > 0 ? (t.steady.judged / t.steady.s) * 3600 : 0;
    rates.push(perHour);
    out[`processes${n}`] = { perHour, steadyJudged: t.steady.judged, steadyS: t.steady.s, jobs: t.jobs, wallS: t.wallS, trained: t.stats.trained, cached: t.stats.cached, invalid: t.stats.invalid };
    process.stderr.write(`  ${n} worker process(es): ${perHour.toFixed(0)} children/hour\n`);
  }
  write('scaling', { settings: { budget, warmup, suite: 'quick', backend: 'wasm', threadsPerProcess: 1, cores: 2 }, ...out, speedup2: rates[1]! / rates[0]!, speedup4: rates[2]! / rates[0]! });
}

/** An export's text without timings (they differ between any two runs). */
function timeless(c: unknown): string {
  return JSON.stringify(c, (k, v) => (k === 'ms' || k === 'at' ? undefined : v));
}

async function identity(): Promise<void> {
  const budget = Number(process.argv[3] ?? 60);
  const cfg = config({ budget, population: 20, tournament: 3, batch: 8, steps: 40 });
  const dir = fs.mkdtempSync(path.join(OUT, 'identity-'));
  const lite = SqliteRunStore.create(path.join(dir, 'one-worker'), { config: cfg, seeds: [{ name: 'adamw', source: seedSource('adamw') }] });
  const pool = new WorkerPool({ workers: 1, timeoutMs: 120_000, backend: 'wasm' });
  await timed(lite, pool, 0, () => 0);
  await pool.close();
  const want = [...lite.iterateChildren()].map(timeless);
  lite.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const got = await withDatabase('identity', async (url) => {
    const { db, store, ex } = await pgRun(url, 'identity', cfg, 'wasm');
    const workers = [1, 2, 3].map(() => start([cli, 'worker', '--store', url, '--workers', '1']));
    const h = startSearch({ store, executor: ex });
    let killedAt = 0;
    h.subscribe((e) => {
      if (e.type === 'child' && e.child.id === Math.floor(budget / 2) && killedAt === 0) {
        killedAt = e.child.id;
        workers[0]!.kill('SIGKILL');
      }
    });
    await h.done;
    const out: string[] = [];
    for await (const c of store.iterateChildren()) out.push(timeless(c));
    await ex.close();
    await stopAll(workers);
    await db.close();
    return { out, killedAt };
  });
  const same = want.length === got.out.length && want.every((w, i) => w === got.out[i]);
  write('identity', {
    settings: { budget, suite: 'quick', steps: 40, backend: 'wasm', hosts: 3, killedAfterChild: got.killedAt },
    children: { sqlite: want.length, postgres: got.out.length },
    identicalExports: same,
    firstDifference: same ? null : want.findIndex((w, i) => w !== got.out[i]) + 1,
  });
}

/** A worker process with the no-op evaluator (for `overhead`). */
async function serveNoop(url: string, concurrency: number): Promise<void> {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  process.on('SIGTERM', () => stop());
  await serve({ location: parseStoreUrl(url), workers: concurrency, makePool: async () => noopExecutor(concurrency), log: () => {}, stop: stopped });
}

const figure = process.argv[2];
const figures: Record<string, () => Promise<void>> = { overhead, scaling, identity };
if (figure === 'serve-noop') await serveNoop(process.argv[3]!, Number(process.argv[4] ?? 32));
else if (figure && figures[figure]) await figures[figure]();
else {
  process.stderr.write(`usage: node dist/bench/distributed.js ${Object.keys(figures).join('|')} [BUDGET]\n`);
  process.exitCode = 1;
}
