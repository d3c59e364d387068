import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { check } from '../../../dsl/check.js';
import { parse } from '../../../dsl/parse.js';
import { register as registerRuns } from '../../../src/cli/runs.js';
import { register as registerShow } from '../../../src/cli/show.js';
import { UserError } from '../../../src/cli/errors.js';
import { programFileFor } from '../../../src/inspect/program.js';
import { FOUND, FOUND_SIMPLIFIED, makeRun } from './make-run.js';

let run: ReturnType<typeof makeRun>;
beforeAll(() => {
  run = makeRun();
});
afterAll(() => {
  fs.rmSync(run.dir, { recursive: true, force: true });
});

/** Runs `optevo ARGS` in-process with only the inspection commands; returns what it printed. */
async function cli(...args: string[]): Promise<string> {
  const program = new Command('optevo').exitOverride();
  registerRuns(program);
  registerShow(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('optevo runs', () => {
  it('lists each run with its start, status, judged/budget, best fitness and program', async () => {
    const out = await cli('runs', '--dir', run.dir);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STARTED\s+STATUS\s+JUDGED\s+BEST\s+PROGRAM$/);
    expect(lines[1]).toMatch(/^test-run\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+stopped\s+6\/10\s+0\.500\s+#3$/);
  });
  it('prints JSON', async () => {
    const runs = JSON.parse(await cli('runs', '--dir', run.dir, '--json'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: 'test-run', status: 'stopped', judged: 6, budget: 10, bestFitness: 0.5, bestId: 3 });
    expect(Number.isNaN(Date.parse(runs[0].started))).toBe(false);
  });
  it('tells a live run from one whose process died', async () => {
    const other = makeRun('killed');
    const db = path.join(other.runDir, 'run.db');
    const { SqliteRunStore } = await import('../../../search/store.js');
    const store = SqliteRunStore.open(db);
    store.setStatus('running');
    store.close();
    expect(JSON.parse(await cli('runs', '--dir', other.dir, '--json'))[0].status).toBe('interrupted');
    fs.writeFileSync(path.join(other.runDir, 'lock'), String(process.pid));
    expect(JSON.parse(await cli('runs', '--dir', other.dir, '--json'))[0].status).toBe('running');
    fs.rmSync(other.dir, { recursive: true, force: true });
  });
  it('takes --run-dir as search and export spell it', async () => {
    expect(await cli('runs', '--run-dir', run.dir)).toContain('test-run');
    expect(await cli('show', 'test-run', '--run-dir', run.dir)).toContain('run test-run (stopped)');
  });
  it('says where it looked when there is no run', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-empty-'));
    expect(await cli('runs', '--dir', empty)).toBe(`no runs in ${empty} (start one with: optevo search)\n`);
    expect(JSON.parse(await cli('runs', '--dir', path.join(empty, 'missing'), '--json'))).toEqual([]);
  });
});

describe('optevo show RUN', () => {
  it('prints the leaderboard of distinct trained programs', async () => {
    const out = await cli('show', 'test-run', '--dir', run.dir);
    expect(out).toContain('run test-run (stopped)');
    expect(out).toContain('6/10 judged');
    const table = out.split('\n').filter((l) => /^\s*\d+\s+\d+\s/.test(l));
    expect(table.map((l) => Number(l.trim().split(/\s+/)[1]))).toEqual([3, 2, 6, 1]);
    expect(table[0]).toMatch(/^ 1\s+3\s+0\.500\s+0\.400\s+0\.550\s+0\.450\s+4\s+2\s+1\s+ok\s+insert s: sign\(buf\)$/);
    expect(table[1]).toContain('seed momentum');
    expect(out).toContain(`optevo show test-run --dir ${run.dir} --program 3`);
  });
  it('honours --top and --json', async () => {
    const r = JSON.parse(await cli('show', run.runDir, '--top', '2', '--json'));
    expect(r.leaderboard.map((x: { id: number }) => x.id)).toEqual([3, 2]);
    expect(r.leaderboard[0].tasks[0]).toEqual({ task: 'quadratic', score: 0.55, lr: 0.1, loss: 0.25, metric: null });
    expect(r.stats).toMatchObject({ judged: 6, budget: 10, bestId: 3 });
  });
  it('turns mistakes into one-line user errors', async () => {
    await expect(cli('show', 'nope', '--dir', run.dir)).rejects.toThrow(UserError);
    await expect(cli('show', 'nope', '--dir', run.dir)).rejects.toThrow(/^no run 'nope'/);
    await expect(cli('show', 'test-run', '--dir', run.dir, '--top', '0')).rejects.toThrow(/--top/);
    await expect(cli('show', 'test-run', '--dir', run.dir, '--program', 'abc')).rejects.toThrow(/--program expects a program id/);
    await expect(cli('show', 'test-run', '--dir', run.dir, '--program', '99')).rejects.toThrow("run 'test-run' has no program #99 (its programs are #1 to #6)");
    await expect(cli('show', 'test-run', '--dir', run.dir, '--plot', 'x.png')).rejects.toThrow(/\.svg/);
  });
});

describe('optevo show RUN --program ID', () => {
  it('prints the source, the simplified source, per-task scores with best rates, and the lineage to a seed', async () => {
    const out = await cli('show', 'test-run', '--dir', run.dir, '--program', '#3');
    expect(out).toContain('program #3 of run test-run');
    expect(out).toContain('fitness 0.500 (standard suite), meta-validation 0.400');
    expect(out).toContain('made by insert s: sign(buf) from #2');
    const simplified = out.slice(out.indexOf('simplified:'), out.indexOf('source (as trained):'));
    expect(simplified).toContain('  update = sign(buf) * lr');
    const source = out.slice(out.indexOf('source (as trained):'));
    expect(source).toContain('  d = buf * 2');
    expect(out).toMatch(/standard suite: fitness 0\.500\n\s+task\s+score\s+loss\s+metric\s+best lr\s+time\n\s+quadratic\s+0\.550\s+0\.250\s+-\s+0\.1\s+0\.1s\n\s+rosenbrock\s+0\.450\s+0\.250\s+-\s+3e-3/);
    expect(out).toContain('meta-validation: fitness 0.400');
    expect(out).toMatch(/lineage \(2 programs, newest first, back to a seed\):\n\s+#3\s+0\.500\s+ok\s+insert s: sign\(buf\)\n\s+#2\s+0\.200\s+ok\s+seed momentum/);
  });
  it('prints JSON with the record and its lineage', async () => {
    const d = JSON.parse(await cli('show', 'test-run', '--dir', run.dir, '--program', '6', '--json'));
    expect(d.child).toMatchObject({ id: 6, status: 'pruned', source: FOUND_SIMPLIFIED });
    expect(d.lineage.map((s: { id: number }) => s.id)).toEqual([6, 3, 2]);
    expect(d.lineage[0]).toEqual({ id: 6, parent: 3, mutation: 'delete', mutationDetail: 'delete d', fitness: 0.1, status: 'pruned' });
  });
  it('plots its loss curves against the seeds as SVG', async () => {
    const file = path.join(run.dir, 'curves.svg');
    const out = await cli('show', 'test-run', '--dir', run.dir, '--program', '3', '--plot', file);
    expect(out).toContain(`wrote loss curves of #3 to ${file}`);
    const svg = fs.readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['#3', 'seed sgd (#1)', 'seed momentum (#2)', 'quadratic', 'rosenbrock']) expect(svg).toContain(label);
  });
});

describe('optevo export RUN --program ID', () => {
  it('writes a program file that parses, checks and becomes a tfjs optimizer', async () => {
    const text = programFileFor('test-run', { dir: run.dir, program: '3' });
    expect(text.startsWith('# Found by optevo: run test-run, program #3, fitness 0.500, meta-validation 0.400, status ok.\n')).toBe(true);
    expect(text).toContain('# Lineage: #3 <- #2 (seed momentum).');
    expect(text).toMatch(/^# Evaluation: --seed \d+ --suite (quick|standard)( --steps \d+)?( --lrs [\d.,e-]+)?$/m);
    expect(text.endsWith(FOUND)).toBe(true);
    const program = parse(text);
    check(program);
    expect(programFileFor('test-run', { dir: run.dir, program: '3', simplified: true }).endsWith(FOUND_SIMPLIFIED)).toBe(true);

    const tf = await import('@tensorflow/tfjs');
    const { createOptimizer } = await import('../../../src/index.js');
    const opt = createOptimizer(program, { learningRate: 0.1 });
    const w = tf.variable(tf.tensor1d([1, -2]));
    opt.minimize(() => tf.sum(tf.square(w)) as import('@tensorflow/tfjs').Scalar);
    // sign descent: each weight moves by exactly the learning rate towards 0.
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.9, 6), expect.closeTo(-1.9, 6)]);
  });
  it('refuses programs that are not there', () => {
    expect(() => programFileFor('test-run', { dir: run.dir, program: '42' })).toThrow(UserError);
  });
});

const main = path.resolve('dist/src/cli/main.js');
const built = fs.existsSync(main) && !fs.readFileSync(path.resolve('dist/src/cli/show.js'), 'utf8').includes('is not built yet');
describe.skipIf(!built)('the built optevo command', () => {
  it('prints a missing run as one line on stderr and exits 1', () => {
    const r = spawnSync(process.execPath, [main, 'show', 'no-such-run', '--dir', run.dir], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^optevo: no run 'no-such-run'/);
    expect(execFileSync(process.execPath, [main, 'runs', '--dir', run.dir], { encoding: 'utf8' })).toContain('test-run');
  });
});
