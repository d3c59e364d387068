/**
 * Figures for the evolutionary search (issue 5). Each figure is a real search
 * through `openSearch` (worker threads, tfjs, SQLite), its run kept under
 * .bench/runs/ for inspection with `optevo show`:
 *
 *  scaling    the same run with 1 and with 2 workers: children judged per hour
 *             after a warm-up (workers started, data built, references cached), and the ratio;
 *  cache      a 1,000-child run warm-started from AdamW: the share of children
 *             never trained (invalid or cached) and the cache hit rate;
 *  defaults   children judged per hour with the default settings (standard
 *             suite behind the quick hurdle), measured over --minutes;
 *  discovery  from --seeds sgd on the quick suite, the best fitness within
 *             --budget children (2,000), against adam, adamw and lion scored on
 *             the same suite, data seed and rates, and the best program.
 *
 * Run: npm run build && node dist/bench/search.js FIGURE [--budget N] [--minutes M] [--workers W]
 * Writes .bench/search-FIGURE.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openSearch } from '../src/cli/search.js';
import { planSearch, type SearchFlags } from '../src/cli/search-options.js';
import { WorkerPool } from '../src/pool.js';
import { seedSource } from '../seeds/index.js';
import { SqliteRunStore } from '../search/store.js';
import { trainedText, type SearchEvent, type SearchStats } from '../search/types.js';

const OUT = '.bench';
const RUNS = path.join(OUT, 'runs');

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

interface Measured {
  run: string;
  dir: string;
  stats: SearchStats;
  wallS: number;
  /** Children judged after the seeds, and the seconds they took. */
  steadyJudged: number;
  steadyS: number;
  perHour: number;
}

async function search(name: string, flags: SearchFlags, opts: { stopAfterMs?: number; quiet?: boolean; warmup?: number } = {}): Promise<Measured> {
  fs.rmSync(path.join(RUNS, name), { recursive: true, force: true });
  const plan = planSearch({ seed: '1', ...flags, runDir: RUNS, name, tui: false });
  const t0 = Date.now();
  const session = await openSearch({ plan });
  const nSeeds = plan.config.seeds.length;
  let steadyT0: number | null = null;
  let steadyJ0 = 0;
  let lastT = t0;
  let lastLine = 0;
  session.handle.subscribe((e: SearchEvent) => {
    if (e.type === 'child') {
      lastT = Date.now();
      if (e.child.id === Math.max(nSeeds, opts.warmup ?? 0)) {
        steadyT0 = lastT;
        steadyJ0 = e.stats.judged;
      }
      if (!opts.quiet && lastT - lastLine > 15_000) {
        lastLine = lastT;
        const s = e.stats;
        process.stderr.write(
          `  [${name}] ${s.judged}/${s.budget} cached ${s.cached} invalid ${s.invalid} pruned ${s.pruned} failed ${s.failed} best ${s.bestFitness?.toFixed(4)} (#${s.bestId}) ${((lastT - t0) / 1000).toFixed(0)} s\n`,
        );
      }
    }
  });
  let timer: NodeJS.Timeout | undefined;
  if (opts.stopAfterMs) timer = setTimeout(() => void session.handle.stop(), opts.stopAfterMs);
  const stats = await session.handle.done;
  if (timer) clearTimeout(timer);
  await session.finish();
  const steadyS = steadyT0 === null ? 0 : (lastT - steadyT0) / 1000;
  const steadyJudged = stats.judged - steadyJ0;
  return {
    run: name,
    dir: path.join(RUNS, name),
    stats,
    wallS: (Date.now() - t0) / 1000,
    steadyJudged,
    steadyS,
    perHour: steadyS > 0 ? (steadyJudged / steadyS) * 3600 : 0,
  };
}

function shares(s: SearchStats) {
  const valid = s.judged - s.invalid;
  return {
    judged: s.judged,
    trained: s.trained,
    failed: s.failed,
    cached: s.cached,
    invalid: s.invalid,
    neverTrainedShare: (s.cached + s.invalid) / s.judged,
    cacheHitRate: valid > 0 ? s.cached / valid : 0,
    cachedShareOfJudged: s.cached / s.judged,
  };
}

function write(figure: string, data: unknown): void {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `search-${figure}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
}

async function scaling(): Promise<void> {
  const budget = arg('budget', '240')!;
  // Measured after the first 60 children: by then every worker has built its data and its reference scores.
  const warmup = Number(arg('warmup', '60'));
  const flags: SearchFlags = { seeds: 'adamw', suite: 'quick', budget, population: '50', tournament: '5', batch: arg('batch', '64')!, metavalEvery: '0' };
  const one = await search('scaling-1', { ...flags, workers: '1' }, { warmup });
  const two = await search('scaling-2', { ...flags, workers: '2' }, { warmup });
  // Same seed and settings: the two runs must be the same, child for child.
  const a = SqliteRunStore.open(one.dir, { readonly: true });
  const b = SqliteRunStore.open(two.dir, { readonly: true });
  const same = JSON.stringify(a.children().map((c) => [c.id, c.source, c.status, c.fitness])) === JSON.stringify(b.children().map((c) => [c.id, c.source, c.status, c.fitness]));
  a.close();
  b.close();
  write('scaling', {
    settings: { ...flags, warmup },
    workers1: { perHour: one.perHour, steadyJudged: one.steadyJudged, steadyS: one.steadyS, wallS: one.wallS, ...shares(one.stats) },
    workers2: { perHour: two.perHour, steadyJudged: two.steadyJudged, steadyS: two.steadyS, wallS: two.wallS, ...shares(two.stats) },
    speedup: two.perHour / one.perHour,
    sameChildren: same,
  });
}

async function cache(): Promise<void> {
  const budget = arg('budget', '1000')!;
  const flags: SearchFlags = { seeds: 'adamw', suite: 'quick', budget, workers: arg('workers', '2')!, metavalEvery: '0' };
  const r = await search('cache', flags);
  const store = SqliteRunStore.open(r.dir, { readonly: true });
  const reasons: Record<string, number> = {};
  for (const c of store.children({ status: 'invalid' })) {
    const k = (c.failure ?? '').replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
    reasons[k] = (reasons[k] ?? 0) + 1;
  }
  const viaHash = store.children({ status: 'cached' }).filter((c) => { const from = store.child(c.cachedFrom!); return c.status === 'cached' && from !== undefined && from.status !== 'invalid' && from.hash === c.hash; }).length;
  store.close();
  write('cache', {
    settings: { ...flags, population: 100, tournament: 10, note: 'default population and tournament; quick suite so the run fits the session' },
    ...shares(r.stats),
    cachedByStructuralHash: viaHash,
    cachedByFingerprintOnly: r.stats.cached - viaHash,
    invalidReasons: reasons,
    perHour: r.perHour,
    wallS: r.wallS,
  });
}

async function defaults(): Promise<void> {
  const minutes = Number(arg('minutes', '10'));
  const flags: SearchFlags = { workers: arg('workers', '2')! };
  const r = await search('defaults', flags, { stopAfterMs: minutes * 60_000 });
  write('defaults', {
    settings: 'all defaults (seeds adamw, population 100, tournament 10, hurdle 0.5, standard suite after the quick hurdle, batch 64)',
    workers: Number(flags.workers),
    minutes,
    perHour: r.perHour,
    steadyJudged: r.steadyJudged,
    steadyS: r.steadyS,
    ...shares(r.stats),
    pruned: r.stats.pruned,
  });
}

async function discovery(): Promise<void> {
  const budget = arg('budget', '2000')!;
  const flags: SearchFlags = { seeds: 'sgd', suite: 'quick', budget, workers: arg('workers', '2')!, restartAfter: arg('restart-after', '0')!, metavalEvery: '0' };
  // Variants: --population, --tournament, --mutation-weights, --seed, --name.
  for (const [flag, key] of [
    ['population', 'population'],
    ['tournament', 'tournament'],
    ['mutation-weights', 'mutationWeights'],
    ['seed', 'seed'],
  ] as const) {
    const v = arg(flag);
    if (v !== undefined) flags[key] = v;
  }
  const name = arg('name', 'discovery')!;
  const r = await search(name, flags);
  const store = SqliteRunStore.open(r.dir, { readonly: true });
  const cfg = store.config();
  const best = store.child(r.stats.bestId!)!;
  const history = store.bestHistory();
  store.close();
  // The hand-written optimizers, scored on the same suite, data seed and rates.
  const pool = new WorkerPool({ workers: 2, timeoutMs: 600_000 });
  const refs: Record<string, number | null> = {};
  await Promise.all(
    ['sgd', 'adam', 'adamw', 'lion'].map(async (name, i) => {
      const out = await pool.evaluate({ childId: -1 - i, source: seedSource(name), suite: 'quick', seed: cfg.evalSeed, lrs: cfg.lrs });
      refs[name] = out.ok ? out.result.fitness : null;
    }),
  );
  await pool.close();
  write(name, {
    settings: flags,
    best: { id: best.id, fitness: best.fitness, tasks: best.quick?.tasks.map((t) => ({ task: t.task, score: t.score, lr: t.lr })), simplified: trainedText(best), source: best.source },
    handWritten: refs,
    bestHistory: history,
    ...shares(r.stats),
    wallS: r.wallS,
    perHour: r.perHour,
  });
}

const figures: Record<string, () => Promise<void>> = { scaling, cache, defaults, discovery };
const which = process.argv[2] ?? '';
const f = figures[which];
if (!f) {
  process.stderr.write(`usage: node dist/bench/search.js ${Object.keys(figures).join('|')} [--budget N] [--minutes M] [--workers W]\n`);
  process.exitCode = 1;
} else {
  await f();
}
