/**
 * The CLI's contract for bad input, one row per case: exit status 1, exactly
 * one line on stderr naming the file, flag or run at fault, nothing on
 * stdout, and no file that existed before changed (nor any made). Every
 * command and every flag that takes a value, plus missing, unreadable,
 * unwritable and wrong-type paths.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRun } from './make-run.js';
import { cli } from './run-cli.js';

let D = '';
beforeAll(() => {
  D = makeRun('r').dir; // D/r is a run of six children
  const put = (name: string, text: string) => fs.writeFileSync(path.join(D, name), text);
  put('good.opt', 'def train(w, g, lr):\n  return g * lr\n');
  put('syntax.opt', 'def train(w, g, lr):\n  u = g +\n  return u * lr\n');
  put('kind.opt', 'def train(w, g, lr):\n  return interp(g, g, g) * lr\n');
  put('deep.opt', `def train(w, g, lr):\n  return ${'('.repeat(2000)}g${')'.repeat(2000)} * lr\n`);
  put('notjson.json', '{ population: 3');
  put('array.json', '[1, 2]');
  put('unknown.json', '{"populaton": 3}');
  put('badtype.json', '{"population": "many"}');
  put('broken.mjs', "throw new Error('broken on purpose');\n");
  put('notasks.mjs', 'export const x = 1;\n');
  put('file', 'a plain file\n');
  fs.mkdirSync(path.join(D, 'adir'));
  fs.mkdirSync(path.join(D, 'out.svg'));
  fs.mkdirSync(path.join(D, 'notarun'));
  fs.writeFileSync(path.join(D, 'notarun', 'run.db'), 'this is not SQLite');
});
afterAll(() => fs.rmSync(D, { recursive: true, force: true }));

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out[path.relative(dir, p) + '/'] = 'dir';
        walk(p);
      } else out[path.relative(dir, p)] = createHash('sha1').update(fs.readFileSync(p)).digest('hex') + ':' + (fs.statSync(p).mode & 0o777).toString(8);
    }
  };
  walk(dir);
  return out;
}

/** [arguments, what the one line must say]. `D/...` paths are relative to the fixture folder (the working directory). */
export const ROWS: [string[], RegExp][] = [
  // search: every flag that takes a value
  [['search', '--population', 'abc'], /^optevo: --population: 'abc' is not a number$/],
  [['search', '--population', '0'], /^optevo: --population: must be at least 1$/],
  [['search', '--tournament', '-1'], /^optevo: --tournament: must be at least 1$/],
  [['search', '--budget', '1.5'], /^optevo: --budget: must be a whole number$/],
  [['search', '--budget', ''], /^optevo: --budget: '' is not a number$/],
  [['search', '--seeds', 'adamz'], /^optevo: --seeds: 'adamz' is neither a seed .* nor a file$/],
  [['search', '--seeds', 'syntax.opt'], /^syntax\.opt:2:/],
  [['search', '--seeds', 'adir'], /adir: cannot read \(is a directory\)$/],
  [['search', '--seeds', 'missing.opt'], /missing\.opt: cannot read \(no such file\)$/],
  [['search', '--restart-after', 'x'], /^optevo: --restart-after: 'x' is not a number$/],
  [['search', '--mutation-weights', 'grow=1'], /--mutation-weights/],
  [['search', '--mutation-weights', 'insert'], /^optevo: --mutation-weights: expected insert=W/],
  [['search', '--max-statements', '0'], /^optevo: --max-statements: must be at least 1$/],
  [['search', '--state-slots', '99'], /^optevo: --state-slots: must be at most 8$/],
  [['search', '--hurdle', '2'], /^optevo: --hurdle: must be at most 1$/],
  [['search', '--suite', 'huge'], /^optevo: --suite: must be one of quick, standard$/],
  [['search', '--metaval-every', '-3'], /^optevo: --metaval-every: must be at least 0$/],
  [['search', '--metaval-top', '0'], /^optevo: --metaval-top: must be at least 1$/],
  [['search', '--batch', '0'], /^optevo: --batch: must be at least 1$/],
  [['search', '--lrs', '0'], /^optevo: --lrs(\.0)?: must be greater than 0$/],
  [['search', '--lrs', ''], /^optevo: --lrs: give at least one number/],
  [['search', '--lrs', 'a,b'], /^optevo: --lrs: 'a' is not a number$/],
  [['search', '--steps', '0'], /^optevo: --steps: must be at least 1$/],
  [['search', '--tasks-module', 'missing.mjs'], /tasks module .*missing\.mjs/],
  [['search', '--tasks-module', 'broken.mjs'], /tasks module .*broken\.mjs.*broken on purpose/],
  [['search', '--tasks-module', 'notasks.mjs'], /tasks module .*notasks\.mjs exports no tasks/],
  [['search', '--seed', '-1'], /^optevo: --seed: must be at least 0$/],
  [['search', '--eval-seed', 'x'], /^optevo: --eval-seed: 'x' is not a number$/],
  [['search', '--workers', '0'], /^optevo: --workers: must be at least 1$/],
  [['search', '--eval-timeout', '0'], /^optevo: --eval-timeout: must be greater than 0$/],
  [['search', '--backend', 'gpu'], /^optevo: --backend: must be one of auto, tensorflow, webgpu, wasm, cpu$/],
  [['search', '--run-dir', 'file'], /^optevo: --run-dir: cannot make the run folder file\/.* \(a part of the path is not a folder\)$/],
  [['search', '--name', 'a/b'], /^optevo: --name: 'a\/b' is not a plain name/],
  [['search', '--name', 'r', '--run-dir', '.'], /^optevo: a run already exists at r /],
  [['search', '--resume', 'nope'], /^optevo: no run 'nope'/],
  [['search', '--resume', 'notarun'], /notarun\/run\.db/],
  [['search', '--resume', 'r', '--run-dir', '.', '--population', '7'], /^optevo: --population cannot change when resuming/],
  [['search', '--resume', 'r', '--run-dir', '.', '--budget', '3'], /^optevo: --budget 3 is below the 6 children this run has judged$/],
  [['search', '--resume', 'r', '--run-dir', '.', '--name', 'x'], /^optevo: --name cannot be given with --resume$/],
  [['search', '--config', 'missing.json'], /missing\.json: cannot read \(no such file\)$/],
  [['search', '--config', 'notjson.json'], /^optevo: notjson\.json: not valid JSON/],
  [['search', '--config', 'array.json'], /^optevo: array\.json: expected a JSON object of settings$/],
  [['search', '--config', 'unknown.json'], /^optevo: unknown\.json: unknown setting 'populaton'$/],
  [['search', '--config', 'badtype.json'], /^optevo: badtype\.json: .*population/],
  [['search', '--config', 'adir'], /adir: cannot read \(is a directory\)$/],
  [['search', '--populaton', '3'], /^optevo: unknown option '--populaton' \(did you mean --population\?\)/],
  // runs, show, export
  [['runs', '--dir'], /^optevo: option '--dir <dir>' argument missing/],
  [['show', 'nope', '--dir', '.'], /^optevo: no run 'nope'/],
  [['show', 'notarun'], /notarun\/run\.db/],
  [['show', 'file'], /file/],
  [['show', 'r', '--dir', '.', '--top', '0'], /^optevo: --top expects a whole number of at least 1, not '0'$/],
  [['show', 'r', '--dir', '.', '--program', 'x'], /^optevo: --program expects a program id such as 17, not 'x'$/],
  [['show', 'r', '--dir', '.', '--program', '99'], /^optevo: run 'r' has no program #99 \(its programs are #1 to #6\)$/],
  [['show', 'r', '--dir', '.', '--plot', 'c.png'], /^optevo: --plot writes SVG/],
  [['show', 'r', '--dir', '.', '--plot', '/nonexistent/c.svg'], /^optevo: --plot: cannot write \/nonexistent\/c\.svg \(no such file or folder\)$/],
  [['show', 'r', '--dir', '.', '--plot', 'out.svg'], /^optevo: --plot: out\.svg is a folder; give a file name$/],
  [['export', 'nope'], /^optevo: no run 'nope'/],
  [['export', 'r', '--run-dir', '.', '--format', 'csv'], /^optevo: --format: 'csv' is not a format/],
  [['export', 'r', '--run-dir', '.', '--format', 'opt'], /^optevo: --format opt writes one program: give --program ID or --best$/],
  [['export', 'r', '--run-dir', '.', '--output', '/nonexistent/x.jsonl'], /^optevo: --output: cannot write \/nonexistent\/x\.jsonl \(no such file or folder\)$/],
  [['export', 'r', '--run-dir', '.', '--output', 'adir'], /^optevo: --output: adir is a folder; give a file name$/],
  [['export', 'r', '--run-dir', '.', '--output', 'file/x'], /^optevo: --output: cannot write file\/x/],
  [['export', 'r', '--run-dir', '.', '--program', '99'], /^optevo: run 'r' has no program #99/],
  [['export', 'r', '--run-dir', '.', '--program', 'abc'], /^optevo: --program expects a program id/],
  [['export', 'r', '--run-dir', '.', '--program', '3', '--output', '/nonexistent/x.opt'], /^optevo: --output: cannot write \/nonexistent\/x\.opt/],
  // check, simplify
  [['check', 'missing.opt'], /missing\.opt: cannot read \(no such file\)$/],
  [['check', 'adir'], /adir: cannot read \(is a directory\)$/],
  [['check', 'syntax.opt'], /^syntax\.opt:2:/],
  [['check', 'kind.opt'], /^kind\.opt:2:.*scalar/],
  [['check', 'deep.opt'], /^deep\.opt:2:\d+: .*nested more than 256 levels/],
  [['simplify', 'missing.opt'], /missing\.opt: cannot read/],
  [['simplify', 'adir'], /adir: cannot read \(is a directory\)$/],
  [['simplify', 'syntax.opt'], /^syntax\.opt:2:/],
  [['simplify', 'deep.opt'], /^deep\.opt:2:\d+: /],
  // eval: every flag that takes a value, checked before any training
  [['eval', 'nothing'], /^optevo: 'nothing' is neither a seed name nor a program file$/],
  [['eval', 'missing.opt'], /missing\.opt/],
  [['eval', 'adir'], /adir: cannot read \(is a directory\)$/],
  [['eval', 'syntax.opt'], /^syntax\.opt:2:/],
  [['eval', 'kind.opt'], /^kind\.opt:2:/],
  [['eval', 'sgd', '--task', 'nope'], /^optevo: unknown task 'nope'/],
  [['eval', 'sgd', '--suite', 'nope'], /^optevo: unknown suite 'nope'/],
  [['eval', 'sgd', '--steps', '0'], /^optevo: --steps must be a positive integer, got '0'$/],
  [['eval', 'sgd', '--lrs', '0'], /^optevo: --lrs takes positive numbers/],
  [['eval', 'sgd', '--seed', '-1'], /^optevo: --seed must be a non-negative integer/],
  [['eval', 'sgd', '--backend', 'gpu'], /^optevo: unknown backend 'gpu'/],
  [['eval', 'sgd', '--batch-size', '0'], /^optevo: --batch-size must be a positive integer/],
  [['eval', 'sgd', '--batching', 'some'], /^optevo: --batching takes full, mini or online/],
  [['eval', 'sgd', '--schedule', 'wobbly'], /schedule 'wobbly'/],
  [['eval', 'sgd', '--init', 'ones'], /initialisation 'ones'/],
  [['eval', 'sgd', '--tasks-module', 'broken.mjs'], /tasks module .*broken\.mjs/],
  [['eval', 'sgd', '--plot', 'c.png'], /^optevo: --plot writes an SVG/],
  [['eval', 'sgd', '--plot', '/nonexistent/c.svg'], /^optevo: --plot: cannot write \/nonexistent\/c\.svg \(no such file or folder\)$/],
  [['eval', 'sgd', '--plot', 'out.svg'], /^optevo: --plot: out\.svg is a folder; give a file name$/],
  // tasks, seeds, bench, demo
  [['tasks', '--suite', 'nope'], /suite 'nope'/],
  [['tasks', '--tasks-module', 'missing.mjs'], /tasks module .*missing\.mjs/],
  [['seeds', 'adamz'], /adamz/],
  [['bench', 'nope'], /'nope'|the benchmarks are not built/],
  [['demo', '--workers', 'x'], /--workers/],
  [['demo', '--run-dir', 'file'], /file/],
  [['nosuch'], /^optevo: unknown command 'nosuch'/],
];

describe(`bad input, ${ROWS.length} cases: exit 1, one line naming the culprit, nothing changed`, () => {
  it.each(ROWS.map(([args, want]) => [args.join(' '), args, want] as const))('optevo %s', async (_name, args, want) => {
    const before = snapshot(D);
    const r = await cli(args, D);
    const lines = r.err.split('\n').filter((l) => l !== '');
    expect({ code: r.code, lines: lines.length, out: r.out }, r.err).toEqual({ code: 1, lines: 1, out: '' });
    expect(lines[0]).toMatch(want);
    expect(snapshot(D)).toEqual(before);
  });
});
