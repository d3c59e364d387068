import { afterAll, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SqliteRunStore } from '../../search/store.js';
import { main } from '../../src/cli/main.js';
import { tempDir } from './helpers.js';

// The built CLI (`npm test` builds first), run as a user would.
const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const runs = path.join(dir, 'runs');
const optevo = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

/** One line on stderr, exit 1, nothing on stdout (in-process: the CLI's own entry point). */
async function refuses(args: string[], message: RegExp | string, opts: { lines?: number } = {}): Promise<void> {
  const err: string[] = [];
  const out: string[] = [];
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => (err.push(String(c)), true));
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (out.push(String(c)), true));
  const cwd = process.cwd();
  let code: number;
  try {
    process.chdir(dir);
    code = await main(args);
  } finally {
    process.chdir(cwd);
    e.mockRestore();
    o.mockRestore();
  }
  const lines = err.join('').trim().split('\n');
  expect({ code, lines: lines.length }, err.join('')).toEqual({ code: 1, lines: opts.lines ?? 1 });
  if (typeof message === 'string') expect(lines[0]).toBe(message);
  else expect(lines[0]).toMatch(message);
  expect(out.join('')).toBe('');
}

describe('optevo search: bad input is one line and exit 1, nothing written', () => {
  it('refuses unknown flags and bad values', async () => {
    await refuses(['search', '--populaton', '5', '--run-dir', runs], "optevo: unknown option '--populaton' (did you mean --population?) (see --help)");
    await refuses(['search', '--population', 'abc', '--run-dir', runs], "optevo: --population: 'abc' is not a number");
    await refuses(['search', '--population', '0', '--run-dir', runs], 'optevo: --population: must be at least 1');
    await refuses(['search', '--population', '2.5', '--run-dir', runs], 'optevo: --population: must be a whole number');
    await refuses(['search', '--population', '5', '--tournament', '9', '--run-dir', runs], 'optevo: --tournament: tournament must not exceed population');
    await refuses(['search', '--hurdle', '1.5', '--run-dir', runs], 'optevo: --hurdle: must be at most 1');
    await refuses(['search', '--suite', 'big', '--run-dir', runs], 'optevo: --suite: must be one of quick, standard');
    await refuses(['search', '--mutation-weights', 'insert=1,grow=2', '--run-dir', runs], /--mutation-weights: .*grow/);
    await refuses(['search', '--seeds', 'adamz', '--run-dir', runs], /--seeds: 'adamz' is neither a seed \(sgd, .*\) nor a file/);
    await refuses(['search', '--name', 'a/b', '--run-dir', runs], /--name: 'a\/b' is not a plain name/);
    await refuses(['search', '--tasks-module', path.join(dir, 'none.mjs'), '--run-dir', runs], /tasks module .*none.mjs/);
    expect(fs.existsSync(runs)).toBe(false);
  });

  it('refuses a seed file with a syntax error, naming the file, line and column', async () => {
    const bad = file('bad.opt', 'def train(w, g, lr):\n  update = g * * lr\n  return update\n');
    await refuses(['search', '--seeds', `adamw,${bad}`, '--run-dir', runs], `${bad}:2:16: expected an expression, found '*'`);
    expect(fs.existsSync(runs)).toBe(false);
  });

  it('validates a config file with clear errors', async () => {
    await refuses(['search', '--config', file('c1.json', '{"population": 5, "popualtion": 3}'), '--run-dir', runs], /c1.json: unknown setting 'popualtion'/);
    await refuses(['search', '--config', file('c2.json', '{"population": "many"}'), '--run-dir', runs], /c2.json: population: .*number/);
    await refuses(['search', '--config', file('c3.json', '{"population": 5,'), '--run-dir', runs], /c3.json: not valid JSON/);
    await refuses(['search', '--config', file('c4.json', '{"hurdle": 3}'), '--run-dir', runs], /c4.json: hurdle: must be at most 1/);
    await refuses(['search', '--config', path.join(dir, 'none.json')], /none.json: cannot read \(no such file\)/);
    expect(fs.existsSync(runs)).toBe(false);
  });

  it('refuses a missing or corrupt run, for search --resume and export', async () => {
    await refuses(['search', '--resume', 'ghost', '--run-dir', runs], /no run 'ghost'/);
    await refuses(['export', 'ghost', '--run-dir', runs], /no run 'ghost'/);
    fs.mkdirSync(path.join(dir, 'corrupt'));
    const junk = 'not a database '.repeat(100);
    fs.writeFileSync(path.join(dir, 'corrupt', 'run.db'), junk);
    await refuses(['search', '--resume', path.join(dir, 'corrupt')], /corrupt run|not a database/);
    await refuses(['export', path.join(dir, 'corrupt')], /corrupt run|not a database/);
    expect(fs.readFileSync(path.join(dir, 'corrupt', 'run.db'), 'utf8')).toBe(junk);
  });
});

describe('optevo search, for real (worker threads, tfjs, the quick suite)', () => {
  it('runs, resumes with a larger budget, refuses changed settings, and exports every child', async () => {
    const base = ['--run-dir', runs, '--no-tui'];
    const tasksModule = new URL('../fixtures/tasks/good.mjs', import.meta.url).pathname;
    const settings = ['--seeds', 'sgd,adam', '--suite', 'quick', '--tasks-module', tasksModule, '--steps', '15', '--lrs', '0.01,0.1', '--population', '6', '--tournament', '2', '--workers', '2', '--seed', '5'];
    const r1 = optevo('search', ...settings, '--budget', '8', '--name', 'real', ...base);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/^started run real: budget 8, 2 workers$/m);
    expect(r1.stdout).toMatch(/^done: 8\/8 judged/m);

    const r2 = optevo('search', '--resume', 'real', '--budget', '12', ...base);
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/^resumed run real: budget 12/m);

    await refuses(['search', '--resume', 'real', '--population', '9', ...base], /--population cannot change when resuming/);
    await refuses(['search', '--resume', 'real', '--budget', '3', ...base], /--budget 3 is below the 12 children/);
    await refuses(['search', ...settings, '--name', 'real', ...base], /a run already exists at .*real/);

    const store = SqliteRunStore.open(path.join(runs, 'real'), { readonly: true });
    const kids = store.children();
    expect(kids.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(kids.slice(0, 2).map((c) => [c.mutation, c.status])).toEqual([
      ['seed', 'ok'],
      ['seed', 'ok'],
    ]);
    // The built-in quick suite and the tasks module's quick task.
    expect(kids[0]!.quick!.tasks.map((t) => t.task)).toEqual(['quadratic', 'rosenbrock', 'sparse-logistic', 'mnist8-mlp', 'fixture-js']);
    expect(store.config().budget).toBe(12);
    store.close();

    const out = path.join(dir, 'real.jsonl');
    const ex = optevo('export', 'real', '--run-dir', runs, '--output', out);
    expect(ex.status, ex.stderr).toBe(0);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number; status: string; source: string; simplified: string });
    expect(lines.map((l) => l.id)).toEqual(kids.map((c) => c.id));
    // SGD with the two spare state slots the search gives every program, unused until mutated.
    expect(lines[0]!.source).toContain('def train(w, g, lr, s1, s2):');
    expect(lines[0]!.simplified).toContain('def train(w, g, lr):');
    const stdout = optevo('export', path.join(runs, 'real'), '--format', 'jsonl');
    expect(stdout.stdout.trim().split('\n').length).toBe(12);
    await refuses(['export', 'real', '--run-dir', runs, '--format', 'csv'], "optevo: --format: 'csv' is not a format (formats: jsonl, opt)");
    // Besides the children: the reference results and the suite's noise, computed once per run.
  }, 240_000);
});
