/**
 * Regression tests of issue 13 ("hardened edges"): each case failed before
 * its fix. The table of bad inputs across every command is in
 * bad-input.test.ts; these are the defects that need more than one line.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteRunStore as RunStore } from '../../../search/store.js';
import { ZERO_COUNTERS } from '../../../search/types.js';
import type { ChildRecord } from '../../../search/types.js';
import { testConfig } from '../../search/helpers.js';
import { SGD, makeRun } from './make-run.js';
import { CLI, cli, cliProcess } from './run-cli.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function run(): ReturnType<typeof makeRun> {
  const r = makeRun();
  made.push(r.dir);
  return r;
}

describe('a refused --resume changes nothing', () => {
  it('refuses a run locked by a live process before writing the new budget', async () => {
    const r = run();
    const holder = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(path.join(r.runDir, 'lock'), String(holder.pid));
      const bytes = fs.readFileSync(path.join(r.runDir, 'run.db'));
      const res = await cli(['search', '--resume', r.runDir, '--budget', '5000', '--no-tui', '--workers', '1']);
      expect(res.code).toBe(1);
      expect(res.err).toBe(`optevo: run ${r.runDir} is in use by process ${holder.pid}\n`);
      expect(fs.readFileSync(path.join(r.runDir, 'run.db')).equals(bytes)).toBe(true);
      const store = RunStore.open(r.runDir, { readonly: true });
      expect(store.config().budget).toBe(10);
      store.close();
      expect(fs.readFileSync(path.join(r.runDir, 'lock'), 'utf8')).toBe(String(holder.pid));
    } finally {
      holder.kill('SIGKILL');
    }
  });
});


describe('--workers is capped at what can help', () => {
  it('lowers a request above the cores, the batch or the memory, saying why in one line', async () => {
    const { usefulWorkers } = await import('../../../src/cli/workers.js');
    const GiB = 2 ** 30;
    expect(usefulWorkers(2, 64, { cores: 2, memoryBytes: 16 * GiB })).toEqual({ workers: 2 });
    expect(usefulWorkers(1000, 64, { cores: 2, memoryBytes: 16 * GiB })).toEqual({ workers: 2, note: '--workers 1000 lowered to 2: this machine has 2 cores' });
    expect(usefulWorkers(16, 4, { cores: 32, memoryBytes: 64 * GiB })).toEqual({ workers: 4, note: '--workers 16 lowered to 4: --batch 4 breeds only 4 children ahead' });
    expect(usefulWorkers(16, 64, { cores: 32, memoryBytes: 2 * GiB })).toEqual({ workers: 4, note: '--workers 16 lowered to 4: half the memory (2 GiB) fits 4' });
  });

  it('a search asked for 1,000 workers starts at most the cores, says so, and Ctrl-C while they start ends it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-workers-'));
    made.push(dir);
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, 'search', '--suite', 'quick', '--budget', '50', '--steps', '3', '--workers', '1000', '--no-tui', '--seed', '1', '--run-dir', 'runs', '--name', 'w'], { cwd: dir });
    let all = '';
    let sent = false;
    const onData = (d: Buffer) => {
      all += d.toString();
      // Ctrl-C as soon as the note is out: the workers are starting.
      if (!sent && all.includes('lowered to')) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const status = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(all).toContain(`--workers 1000 lowered to ${Math.min(os.availableParallelism(), 50)}: this machine has`);
    expect(status, all).toBe(0);
    expect(all).toMatch(/stopped \(checkpointed\)/);
    expect(fs.existsSync(path.join(dir, 'runs', 'w', 'lock'))).toBe(false);
  });
});

describe('read-only runs are read, never called corrupt', () => {
  /** The CLI as a user who may not write the run (root cannot be kept out by modes: run as nobody). */
  const asReader = (args: string[], cwd: string) =>
    cliProcess(args, {
      cwd,
      timeout: 60_000,
      ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
    });

  it('show, export and runs read it; a resume says it cannot write', () => {
    const r = run();
    fs.chmodSync(r.dir, 0o755);
    fs.chmodSync(path.join(r.runDir, 'run.db'), 0o444);
    fs.chmodSync(r.runDir, 0o555);
    try {
      const before = fs.readdirSync(r.runDir).sort();
      const show = asReader(['show', r.name, '--dir', r.dir], r.dir);
      expect(show.stderr).toBe('');
      expect(show.status).toBe(0);
      expect(show.stdout).toMatch(/#3/);
      const exp = asReader(['export', r.runDir], r.dir);
      expect(exp.stderr).toBe('');
      expect(exp.stdout.trim().split('\n')).toHaveLength(6);
      const runs = asReader(['runs', '--dir', r.dir], r.dir);
      expect(runs.stdout).toMatch(/test-run .* stopped/);
      expect(runs.stdout).not.toMatch(/corrupt|unreadable/);
      const res = asReader(['search', '--resume', r.runDir, '--no-tui'], r.dir);
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/^optevo: cannot write to run .*test-run \(permission denied\): a run that is resumed must be writable\n$/);
      expect(fs.readdirSync(r.runDir).sort()).toEqual(before);
    } finally {
      fs.chmodSync(r.runDir, 0o755);
    }
  });
});

/** A run of `n` children with long sources: its export is far larger than a pipe's buffer. */
function bigRun(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-big-'));
  made.push(dir);
  const runDir = path.join(dir, 'big');
  const store = RunStore.create(runDir, { config: testConfig({ budget: n }), seeds: [{ name: 'sgd', source: SGD }] });
  const source = SGD + '#'.repeat(2000) + '\n';
  for (let id = 1; id <= n; id++) {
    const child: ChildRecord = { id, parent: id === 1 ? null : 1, mutation: id === 1 ? 'seed' : 'modify', mutationDetail: '', source, simplified: SGD, hash: `h${id}`, fingerprint: `f${id}`, status: 'ok', fitness: 0, quick: { suite: 'quick', fitness: 0, tasks: [], ms: 1 }, standard: null, metaval: null, size: 1, cachedFrom: null, failure: null, ms: 1, at: new Date(0).toISOString() };
    store.commit({ child, add: [], remove: [], counters: { ...ZERO_COUNTERS, committed: id, ok: id }, metaval: [] });
  }
  store.close();
  return runDir;
}

describe('a closed stdout ends a command quietly', () => {
  const piped = (cmd: string, cwd: string) => spawnSync('bash', ['-c', `${cmd}; echo "status \${PIPESTATUS[0]}" >&2`], { cwd, encoding: 'utf8', timeout: 60_000 });

  it('export | head -1 and simplify | head -1: one line out, nothing on stderr, status 0', () => {
    const runDir = bigRun(200);
    const exp = piped(`node ${CLI} export ${runDir} --format jsonl | head -1`, path.dirname(runDir));
    expect(JSON.parse(exp.stdout).id).toBe(1);
    expect(exp.stderr).toBe('status 0\n');
    const big = path.join(path.dirname(runDir), 'big.opt');
    fs.writeFileSync(big, `def train(w, g, lr):\n  a0 = g\n${Array.from({ length: 4999 }, (_, i) => `  a${i + 1} = a${i} + g\n`).join('')}  return a4999 * lr\n`);
    const simp = piped(`node ${CLI} simplify ${big} | head -1`, path.dirname(runDir));
    expect(simp.stdout).toBe('def train(w, g, lr):\n');
    expect(simp.stderr).toBe('status 0\n');
  });
});

describe('runs are named by their folders', () => {
  it('a copied run is listed under its new folder name, and show opens it by that name', async () => {
    const r = run();
    fs.cpSync(r.runDir, path.join(r.dir, 'copy'), { recursive: true });
    const listed = await cli(['runs', '--dir', r.dir, '--json']);
    expect((JSON.parse(listed.out) as { name: string }[]).map((x) => x.name).sort()).toEqual(['copy', 'test-run']);
    const shown = await cli(['show', 'copy', '--dir', r.dir]);
    expect(shown.err).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/copy/);
  });
});

describe('a tasks module whose data function throws', () => {
  it('eval says so in one line, naming the task', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-tasks-'));
    made.push(dir);
    const index = new URL('../../../dist/src/index.js', import.meta.url).pathname;
    fs.writeFileSync(path.join(dir, 'bad.mjs'), `import { defineTask } from '${index}';\nexport const t = defineTask({ name: 'bad', data: () => { throw new Error('boom'); }, model: { mlp: [2, 2] } });\n`);
    const r = cliProcess(['eval', 'adamw', '--tasks-module', 'bad.mjs', '--task', 'bad', '--steps', '2'], { cwd: dir, timeout: 60_000 });
    expect(r.stderr).toBe("optevo: task 'bad': its data function failed: boom\n");
    expect(r.status).toBe(1);
  });
});

describe('printed hints survive copy and paste', () => {
  it('resume and inspect hints are shell-quoted', async () => {
    const { shellQuote } = await import('../../../src/cli/shell-quote.js');
    const { createPlainReporter } = await import('../../../src/tui/plain.js');
    expect(shellQuote('runs/plain-name_1')).toBe('runs/plain-name_1');
    expect(shellQuote("my runs/it's")).toBe(`'my runs/it'\\''s'`);
    const lines: string[] = [];
    const report = createPlainReporter({ write: (l) => lines.push(l), runRef: 'my runs/r 1' });
    const stats = { judged: 3, budget: 9, cached: 0, invalid: 0, pruned: 0, failed: 0, trained: 3, bestId: 2, bestFitness: 0.5, elapsedMs: 10, workersBusy: 0, workers: 1, rate: 1 };
    report({ type: 'done', stats, reason: 'stopped' });
    expect(lines).toContain(`resume with: optevo search --resume 'my runs/r 1'`);
    expect(lines).toContain(`inspect with: optevo show 'my runs/r 1' --program 2`);
  });
});
