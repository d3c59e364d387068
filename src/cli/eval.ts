/**
 * `optevo eval PROGRAM...`: train programs (seed names or `.opt` files) on a
 * suite or on named tasks with a learning-rate sweep, and show the results
 * side by side: per task the best rate's validation loss and metric, and the
 * score against the AdamW reference; with `--plot`, an SVG of loss curves.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { Program } from '../../dsl/ast.js';
import { parse } from '../../dsl/parse.js';
import type { SuiteName } from '../../search/types.js';
import { isSeedName, seedProgram } from '../../seeds/index.js';
import { isBackendName, type BackendName } from '../backend.js';
import { DEFAULT_LRS, evaluate, type Evaluation } from '../evaluate.js';
import { SUITES } from '../tasks/registry.js';
import type { Batching } from '../tasks/types.js';
import { parseInit } from '../train/init.js';
import { parseSchedule } from '../train/schedule.js';
import { UserError } from './errors.js';
import { lossCurvesSvg } from './plot.js';
import { taskRegistry } from './task-options.js';

interface EvalOptions {
  task: string[];
  suite?: string;
  steps?: string;
  lrs?: string;
  batch: boolean;
  seed: string;
  backend: string;
  json?: boolean;
  plot?: string;
  tasksModule?: string;
  batchSize?: string;
  batching?: string;
  schedule?: string;
  init?: string;
  whiten?: boolean;
  sweep?: string;
}

export function loadProgram(arg: string): { label: string; program: Program } {
  if (isSeedName(arg)) return { label: arg, program: seedProgram(arg) };
  if (existsSync(arg)) return { label: basename(arg).replace(/\.opt$/, ''), program: parse(readFileSync(arg, 'utf8'), { file: arg }) };
  if (arg.endsWith('.opt')) throw new UserError(`no such file: ${arg}`);
  throw new UserError(`'${arg}' is neither a seed name nor a program file`);
}

function userParse<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

function positiveInt(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${what} must be a positive integer, got '${s}'`);
  return n;
}

export function parseLrs(s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.length === 0 || out.some((x) => !Number.isFinite(x) || x <= 0)) throw new UserError(`--lrs takes positive numbers separated by commas, got '${s}'`);
  return out;
}

const fmt = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined ? '-' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toPrecision(digits));

function cell(e: Evaluation, task: string): string {
  const r = e.tasks.find((t) => t.task === task);
  if (!r) return '';
  if (r.loss === null) return `failed (${(r.failure ?? '').slice(0, 40)})`;
  const metric = r.metric === null ? '' : r.metric !== r.loss ? ` ${fmt(r.metric, 3)}` : '';
  const score = r.score === null ? '' : ` ${r.score >= 0 ? '+' : ''}${r.score.toFixed(2)}`;
  return `${fmt(r.loss)}${metric} @${fmt(r.lr, 2)}${score}`;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('train programs (seed names or .opt files) on proxy tasks with a learning-rate sweep and compare them with AdamW')
    .argument('<program...>', 'seed names or .opt files')
    .option('--task <name>', 'a task to run (repeatable); default: the suite', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--suite <name>', `a suite (${SUITES.join(', ')})`, 'quick')
    .option('--steps <n>', "training steps (default: each task's own)")
    .option('--lrs <list>', `learning rates to sweep, comma-separated (default ${DEFAULT_LRS.join(',')})`)
    .option('--no-batch', 'run each rate separately instead of as stacked replicas')
    .option('--seed <n>', 'seed of the data and initialisation', '0')
    .option('--backend <name>', 'auto, tensorflow, webgpu, wasm or cpu', 'auto')
    .option('--batch-size <n>', "examples per mini-batch (default: each task's own)")
    .option('--batching <kind>', "full, mini or online (default: each task's own)")
    .option('--schedule <s>', 'learning-rate schedule: constant, step:EVERY:FACTOR or cosine[:FINAL], with optional +warmup:N')
    .option('--init <rule>', 'weight initialisation: glorot-uniform, glorot-normal or fan-in, optionally :GAIN')
    .option('--whiten', 'decorrelate inputs by PCA whitening (tfjs tasks up to 256 inputs wide)')
    .option('--sweep <kind>', 'full (every rate to the end) or halving (successive halving: the better half of the rates goes on at 1/4 and 1/2 of the steps)', 'full')
    .option('--tasks-module <file>', 'a module exporting tasks made with defineTask')
    .option('--json', 'print data')
    .option('--plot <file.svg>', 'write the loss curves (best rate) as an SVG')
    .action(async (programs: string[], opts: EvalOptions) => {
      if (!isBackendName(opts.backend)) throw new UserError(`unknown backend '${opts.backend}' (auto, tensorflow, webgpu, wasm, cpu)`);
      if (!SUITES.includes(opts.suite as SuiteName)) throw new UserError(`unknown suite '${opts.suite}' (suites: ${SUITES.join(', ')})`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UserError(`--seed must be a non-negative integer, got '${opts.seed}'`);
      const steps = opts.steps === undefined ? undefined : positiveInt(opts.steps, '--steps');
      const lrs = opts.lrs === undefined ? undefined : parseLrs(opts.lrs);
      if (opts.plot !== undefined && !opts.plot.endsWith('.svg')) throw new UserError(`--plot writes an SVG: give a file ending in .svg, got '${opts.plot}'`);
      const batchSize = opts.batchSize === undefined ? undefined : positiveInt(opts.batchSize, '--batch-size');
      if (opts.batching !== undefined && !['full', 'mini', 'online'].includes(opts.batching)) throw new UserError(`--batching takes full, mini or online, got '${opts.batching}'`);
      const schedule = opts.schedule === undefined ? undefined : userParse(() => parseSchedule(opts.schedule!));
      const init = opts.init === undefined ? undefined : userParse(() => parseInit(opts.init!));
      if (opts.sweep !== undefined && opts.sweep !== 'full' && opts.sweep !== 'halving') throw new UserError(`--sweep takes full or halving, got '${opts.sweep}'`);
      const loaded = programs.map(loadProgram);
      const seen = new Map<string, number>();
      for (const l of loaded) {
        const n = (seen.get(l.label) ?? 0) + 1;
        seen.set(l.label, n);
        if (n > 1) l.label = `${l.label}#${n}`;
      }
      const registry = await taskRegistry(opts.tasksModule);
      for (const t of opts.task) if (!registry.get(t)) throw new UserError(`unknown task '${t}' (tasks: ${registry.names().join(', ')})`);
      const results: { label: string; evaluation: Evaluation }[] = [];
      for (const l of loaded) {
        let evaluation: Evaluation;
        try {
          evaluation = await evaluate(l.program, {
            ...(opts.task.length ? { tasks: opts.task } : { suite: opts.suite as SuiteName }),
            ...(steps !== undefined ? { steps } : {}),
            ...(lrs ? { lrs } : {}),
            batch: opts.batch,
            ...(batchSize !== undefined ? { batchSize } : {}),
            ...(opts.batching ? { batching: opts.batching as Batching } : {}),
            ...(schedule ? { schedule } : {}),
            ...(init ? { init } : {}),
            ...(opts.whiten ? { whiten: true } : {}),
            ...(opts.sweep === 'halving' ? { sweep: 'halving' as const } : {}),
            seed,
            backend: opts.backend as BackendName,
            registry,
          });
        } catch (e) {
          const msg = String((e as Error)?.message ?? e);
          if (/backend is not available/.test(msg)) throw new UserError(msg.split('\n')[0]!);
          throw e;
        }
        results.push({ label: l.label, evaluation });
      }
      const first = results[0]!.evaluation;
      if (opts.plot) {
        const series = results.flatMap((r) => r.evaluation.tasks.map((t) => ({ program: r.label, task: t.task, steps: t.steps, curve: t.curve })));
        writeFileSync(opts.plot, await lossCurvesSvg(series, `training loss at the best rate (${first.suite ?? 'tasks'}, seed ${seed})`));
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ backend: first.backend, backendDetail: first.backendDetail, seed, lrs: lrs ?? DEFAULT_LRS, results: results.map((r) => ({ program: r.label, ...r.evaluation })) }, null, 2) + '\n');
        return;
      }
      const taskNames = first.tasks.map((t) => t.task);
      const header = ['task', ...results.map((r) => r.label)];
      const rows = [header, ...taskNames.map((t) => [t, ...results.map((r) => cell(r.evaluation, t))])];
      rows.push(['fitness', ...results.map((r) => (r.evaluation.fitness === null ? 'null' : r.evaluation.fitness.toFixed(3)))]);
      rows.push(['seconds', ...results.map((r) => (r.evaluation.ms / 1000).toFixed(1))]);
      const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      const lines = [
        `backend: ${first.backendDetail}`,
        `${first.suite ? `suite ${first.suite}` : `tasks ${taskNames.join(', ')}`}, seed ${seed}, ${(lrs ?? DEFAULT_LRS).length} rates, ${opts.batch ? 'batched where the model allows' : 'rates run separately'}`,
        'cells: validation loss [metric] @best rate, score against adamw (0 = as good, + better)',
        '',
        ...rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()),
      ];
      const notes = first.tasks.filter((t) => t.note && !t.note.startsWith('float64')).map((t) => `note: ${t.task}: ${t.note}`);
      process.stdout.write([...lines, ...(notes.length ? ['', ...notes] : []), ...(opts.plot ? ['', `wrote ${opts.plot}`] : [])].join('\n') + '\n');
    });
}
