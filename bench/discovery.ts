/**
 * The figures of issue 11: what a search finds, and where its compute goes.
 *
 * - D1: `--seeds sgd --suite quick --time 30m` at three run seeds; the best
 *   fitness against Adam's quick-suite fitness (`optevo eval adam --suite quick`).
 * - D2: `--seeds adamw --time 60m` on the default suite; the recommended
 *   program's meta-validation fitness (0 is AdamW) against the noise band.
 *
 * Per run: worker-time shares (novel training, references, meta-validation,
 * re-evaluation, idle), invalid children, cache hits, trained programs per
 * hour, and the programs found, simplified.
 *
 *   node dist/bench/discovery.js d1 [--time 30m] [--seeds 1,2,3] [--workers 2] [--eval-timeout S]
 *   node dist/bench/discovery.js d2 [--time 60m] [--seed 1] [--workers 2] [--eval-timeout S]
 *   node dist/bench/discovery.js report RUN_DIR...   (the figures of runs already made)
 *
 * `--eval-timeout` matters on a loaded machine: the default 300 s is wall
 * time, and a standard-suite evaluation that takes 50 s of CPU on an idle core
 * passes it when six other jobs share the core.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteRunStore } from '../search/store.js';
import { timeShares } from '../search/worker-time.js';
import { recommendation } from '../src/inspect/run-report.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const which = argv[0] ?? 'd1';
const workers = flag('workers', '2');
const timeout = ['--eval-timeout', flag('eval-timeout', '300')];
const runDir = which === 'report' ? '' : fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-discovery-'));

function optevo(...args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`optevo ${args.join(' ')} failed: ${r.stderr.trim().split('\n').at(-1)}`);
  return r.stdout;
}

/** Held-out evaluation seeds for the D1 comparison: none is a seed the runs train or re-evaluate on. */
const FRESH_SEEDS = [1000, 1001, 1002, 1003, 1004];

/**
 * The run's recommended program against Adam on the same evaluation seeds:
 * fitness varies far more between seeds than between good optimizers (Adam
 * scores +0.26 on seed 0 and +0.48 on seed 3), so only a side-by-side score
 * on one seed says which is better. On the run's own seed, and on fresh ones.
 */
function againstAdam(dir: string, suite: string, evalSeed: number): string {
  const file = path.join(dir, 'recommended.opt');
  optevo('export', dir, '--best', '--output', file);
  const on = (seed: number): [number, number] => {
    const r = (JSON.parse(optevo('eval', file, 'adam', '--suite', suite, '--seed', String(seed), '--json')) as { results: { fitness: number }[] }).results;
    return [r[0]!.fitness, r[1]!.fitness];
  };
  const own = on(evalSeed);
  const fresh = FRESH_SEEDS.map(on);
  const mean = (i: 0 | 1) => fresh.reduce((a, f) => a + f[i], 0) / fresh.length;
  const wins = fresh.filter((f) => f[0] > f[1]).length;
  return (
    `  recommended vs Adam, same seeds: run's seed ${evalSeed}: ${own[0].toFixed(4)} vs ${own[1].toFixed(4)}; ` +
    `fresh seeds ${FRESH_SEEDS.join(',')}: mean ${mean(0).toFixed(4)} vs ${mean(1).toFixed(4)}, ahead on ${wins} of ${fresh.length}\n`
  );
}

function report(name: string, dir = path.join(runDir, name)): void {
  const s = SqliteRunStore.open(dir, { readonly: true });
  try {
    const c = s.counters();
    const judged = c.committed;
    const trained = c.ok + c.pruned + c.failed;
    const hours = c.elapsedMs / 3_600_000;
    const sh = timeShares(c.workerTime);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const rec = recommendation(s);
    const noise = s.calibration().noise[s.config().suite]?.noise ?? null;
    const best = c.bestId === null ? null : s.child(c.bestId);
    const pick = rec === null ? null : s.child(rec.id);
    process.stdout.write(
      `${name}: ${judged} judged in ${(c.elapsedMs / 60000).toFixed(1)} min; best #${c.bestId} fitness ${c.bestFitness?.toFixed(4)} (held ${c.bestHeld?.toFixed(4)}, noise ±${noise?.toFixed(4) ?? '-'})\n` +
        `  worker time: novel ${pct(sh.novel)}, reference ${pct(sh.reference)}, metaval ${pct(sh.metaval)}, reeval ${pct(sh.reeval)}, idle ${pct(sh.idle)}\n` +
        `  invalid ${pct(c.invalid / Math.max(1, judged))}, cache hits ${pct(c.cached / Math.max(1, judged))}, trained ${trained} (${(trained / Math.max(hours, 1e-9)).toFixed(0)}/hour)\n` +
        `  recommended: ${rec ? `#${rec.id} (${rec.rule}), metaval ${pick?.metaval?.toFixed(4) ?? '-'}` : '-'}\n` +
        (best && best.status !== 'invalid' ? `  best program, simplified:\n${best.simplified.replace(/^/gm, '    ')}\n` : '') +
        (s.config().suite === 'quick' && rec !== null ? againstAdam(dir, 'quick', s.config().evalSeed) : ''),
    );
  } finally {
    s.close();
  }
}

if (which === 'd1') {
  const time = flag('time', '30m');
  const adam = (JSON.parse(optevo('eval', 'adam', '--suite', 'quick', '--json')) as { results: { fitness: number }[] }).results[0]!.fitness;
  process.stdout.write(`D1: --seeds sgd --suite quick --time ${time}; Adam's quick-suite fitness ${adam.toFixed(4)}\n`);
  for (const seed of flag('seeds', '1,2,3').split(',')) {
    const name = `d1-seed${seed}`;
    optevo('search', '--seeds', 'sgd', '--suite', 'quick', '--time', time, '--seed', seed, '--workers', workers, '--run-dir', runDir, '--name', name, '--no-tui', ...timeout);
    report(name);
  }
} else if (which === 'd2') {
  const time = flag('time', '60m');
  const seed = flag('seed', '1');
  process.stdout.write(`D2: --seeds adamw --time ${time} (default suite); AdamW's fitness is 0 on every suite\n`);
  optevo('search', '--seeds', 'adamw', '--time', time, '--seed', seed, '--workers', workers, '--run-dir', runDir, '--name', 'd2', '--no-tui', ...timeout);
  report('d2');
} else if (which === 'report') {
  // The figures of runs already made: `report DIR/NAME...`.
  for (const dir of argv.slice(1).filter((a) => !a.startsWith('--'))) report(path.basename(dir), dir);
} else {
  process.stderr.write(`discovery: expected d1, d2 or report, got '${which}'\n`);
  process.exit(1);
}
if (runDir) process.stdout.write(`runs kept in ${runDir}\n`);
