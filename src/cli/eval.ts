/**
 * `optevo eval PROGRAM...`: train programs (seed names or `.opt` files) on a
 * suite or on named tasks with a learning-rate sweep, and show the results
 * side by side: per task the best rate's validation loss and metric, and the
 * score against the AdamW reference; with `--plot`, an SVG of loss curves.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { Program } from '../../dsl/ast.js';
import { SettingError, read, type Reader, type Setting } from '../../search/settings.js';
import { isSeedName, seedProgram } from '../../seeds/index.js';
import { BACKEND_NAMES, isBackendName, type BackendName } from '../backend.js';
import { DEFAULT_LRS, evaluate, type Evaluation } from '../evaluate.js';
import { SUITES, type TaskRegistry } from '../tasks/registry.js';
import { parseEvaluationHeader } from '../inspect/evaluation-header.js';
import { evaluateSecondOrder, type SecondOrderTaskEvaluation } from '../second-order/evaluate.js';
import { isSecondOrderName, type SecondOrderName } from '../second-order/index.js';
import { parseInit, type InitRule as Init } from '../train/init.js';
import { parseSchedule, type Schedule } from '../train/schedule.js';
import { UserError } from './errors.js';
import { checkOutputPath, writeOutputFile } from './output-file.js';
import { readProgram } from './program-file.js';
import { TaskDefinitionError } from '../tasks/define.js';
import { lossCurvesSvg } from '../inspect/plot.js';
import { addSettingOptions, readCommandSettings } from './setting-options.js';
import { taskRegistry } from './task-options.js';
import { errorMessage } from '../../dsl/errors.js';

/**
 * An exported program's header says how its run scored it (seed, suite,
 * steps, rates): settings the command line does not give are taken from it,
 * so that `eval found.opt` shows the score the run showed. Programs whose
 * recorded settings differ need the options given. Works on the raw flags,
 * before they are read through the settings table (an absent flag is undefined).
 */
function recordedSettings(loaded: { label: string; program?: Program; file?: string }[], flags: Record<string, unknown>): { file: string; flags: string } | undefined {
  const withHeader = loaded.flatMap((l) => {
    const e = l.file === undefined || !l.program ? undefined : parseEvaluationHeader(l.program.header);
    return e ? [{ file: l.file!, e }] : [];
  });
  if (withHeader.length === 0) return undefined;
  const given = (k: string) => flags[k] !== undefined;
  const tasks = Array.isArray(flags.task) ? flags.task : [];
  const { file, e } = withHeader[0]!;
  const differs = withHeader.find((w) => JSON.stringify(w.e) !== JSON.stringify(e));
  if (differs && !(given('seed') && (given('suite') || tasks.length > 0)))
    throw new UserError(`${file} and ${differs.file} were scored with different evaluation settings: give --seed and --suite (or --task)`);
  const out: string[] = [];
  if (!given('seed')) {
    flags.seed = String(e.seed);
    out.push(`--seed ${e.seed}`);
  }
  if (!given('suite') && tasks.length === 0) {
    flags.suite = e.suite;
    out.push(`--suite ${e.suite}`);
  }
  if (!given('steps') && e.steps !== undefined) {
    flags.steps = String(e.steps);
    out.push(`--steps ${e.steps}`);
  }
  if (!given('lrs') && e.lrs !== undefined) {
    flags.lrs = e.lrs.join(',');
    out.push(`--lrs ${e.lrs.join(',')}`);
  }
  return out.length ? { file, flags: out.join(' ') } : undefined;
}

export function loadProgram(arg: string): { label: string; program: Program; file?: string } {
  if (isSeedName(arg)) return { label: arg, program: seedProgram(arg) };
  if (existsSync(arg)) return { label: basename(arg).replace(/\.opt$/, ''), program: readProgram(arg), file: arg };
  if (arg.endsWith('.opt')) throw new UserError(`no such file: ${arg}`);
  throw new UserError(`'${arg}' is neither a seed name nor a program file`);
}

/** A reader whose mistakes are this command's one-line messages. */
const reader = <T>(f: (s: string) => T, file: z.ZodType = z.string()): Reader => ({
  file,
  read: (raw) => {
    try {
      return f(String(raw));
    } catch (e) {
      throw new SettingError(errorMessage(e));
    }
  },
});

function positiveInt(what: string) {
  return reader((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got '${s}'`);
    return n;
  });
}

function oneOf<const T extends readonly string[]>(values: T, message: (s: string) => string) {
  return reader((s) => {
    if (!values.includes(s)) throw new Error(message(s));
    return s as T[number];
  });
}

export function parseLrs(s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.length === 0 || out.some((x) => !Number.isFinite(x) || x <= 0)) throw new UserError(`--lrs takes positive numbers separated by commas, got '${s}'`);
  return out;
}

const BATCHINGS = ['full', 'mini', 'online'] as const;
const SWEEPS = ['full', 'halving'] as const;
const option = <const S extends Omit<Setting, 'scope'>>(row: S) => ({ ...row, scope: 'command' as const });

/** `optevo eval`'s options, read and checked through the settings table's mechanism. */
export const EVAL_SETTINGS = [
  option({ key: 'task', arg: '<name>', help: 'a task to run (repeatable)', read: { file: z.array(z.string()), read: (raw: unknown) => raw }, schema: z.array(z.string()), default: { value: [] as string[], text: 'the suite' }, repeatable: true }),
  option({ key: 'suite', arg: '<name>', help: `a suite (${SUITES.join(', ')})`, read: oneOf(SUITES, (s) => `unknown suite '${s}' (suites: ${SUITES.join(', ')})`), schema: z.enum(SUITES), default: { value: 'quick' } }),
  option({ key: 'steps', arg: '<n>', help: "training steps (default: each task's own)", read: positiveInt('--steps'), schema: z.number().int().min(1).optional() }),
  option({ key: 'lrs', arg: '<list>', help: 'learning rates to sweep, comma-separated', read: reader(parseLrs), schema: z.array(z.number()).optional(), default: { value: undefined, text: DEFAULT_LRS.join(',') } }),
  option({ key: 'batch', help: 'run each rate separately instead of as stacked replicas', read: read.switch, schema: z.boolean(), default: { value: true }, negatable: true }),
  option({
    key: 'seed',
    arg: '<n>',
    help: "seed of the data and initialisation (default: an exported program's run's, else 0)",
    read: reader((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--seed must be a non-negative integer, got '${s}'`);
      return n;
    }),
    schema: z.number().int().min(0),
    default: { value: 0 },
  }),
  option({ key: 'backend', arg: '<name>', help: BACKEND_NAMES.join(', '), read: oneOf(BACKEND_NAMES, (s) => `unknown backend '${s}' (${BACKEND_NAMES.join(', ')})`), schema: z.custom<BackendName>(isBackendStr), default: { value: 'auto' } }),
  option({ key: 'batchSize', arg: '<n>', help: "examples per mini-batch (default: each task's own)", read: positiveInt('--batch-size'), schema: z.number().int().min(1).optional() }),
  option({ key: 'batching', arg: '<kind>', help: "full, mini or online (default: each task's own)", read: oneOf(BATCHINGS, (s) => `--batching takes full, mini or online, got '${s}'`), schema: z.enum(BATCHINGS).optional() }),
  option({ key: 'schedule', arg: '<s>', help: 'learning-rate schedule: constant, step:EVERY:FACTOR or cosine[:FINAL], with optional +warmup:N', read: reader(parseSchedule), schema: z.custom<Schedule>().optional() }),
  option({ key: 'init', arg: '<rule>', help: 'weight initialisation: glorot-uniform, glorot-normal or fan-in, optionally :GAIN', read: reader(parseInit), schema: z.custom<Init>().optional() }),
  option({ key: 'whiten', help: 'decorrelate inputs by PCA whitening (tfjs tasks up to 256 inputs wide)', read: read.switch, schema: z.boolean().optional() }),
  option({
    key: 'sweep',
    arg: '<kind>',
    help: 'full (every rate to the end) or halving (the rates clearly behind by smoothed training loss stop early, the rest finish)',
    read: oneOf(SWEEPS, (s) => `--sweep takes full or halving, got '${s}'`),
    schema: z.enum(SWEEPS),
    default: { value: 'halving' },
  }),
  option({ key: 'tasksModule', arg: '<file>', help: 'a module exporting tasks made with defineTask', read: read.text, schema: z.string().optional() }),
  option({ key: 'json', help: 'print data', read: read.switch, schema: z.boolean().optional() }),
  option({
    key: 'plot',
    arg: '<file.svg>',
    help: 'write the loss curves (best rate) as an SVG',
    read: reader((s) => {
      if (!s.endsWith('.svg')) throw new Error(`--plot writes an SVG: give a file ending in .svg, got '${s}'`);
      return s;
    }),
    schema: z.string().optional(),
  }),
] as const satisfies readonly Setting[];

function isBackendStr(s: unknown): boolean {
  return typeof s === 'string' && isBackendName(s);
}

const fmt = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined ? '-' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toPrecision(digits));

function cell(e: Evaluation, task: string): string {
  const r = e.tasks.find((t) => t.task === task);
  if (!r) return '';
  if (r.loss === null) return `failed (${(r.failure ?? '').slice(0, 40)})`;
  const metric = r.metric === null ? '' : r.metric !== r.loss ? ` ${fmt(r.metric, 3)}` : '';
  const score = r.score === null ? '' : ` ${r.score >= 0 ? '+' : ''}${r.score.toFixed(2)}`;
  const cost = 'gradientEquivalents' in r ? ` (${(r as SecondOrderTaskEvaluation).iterations} it, ${fmt((r as SecondOrderTaskEvaluation).gradientEquivalents, 3)} grad evals)` : '';
  return `${fmt(r.loss)}${metric} @${fmt(r.lr, 2)}${score}${cost}`;
}

type EvalOptions = ReturnType<typeof readCommandSettings<typeof EVAL_SETTINGS>>;
type Loaded = { label: string; program: Program; file?: string } | { label: string; secondOrder: SecondOrderName };
type Compared = { label: string; evaluation: Evaluation };

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('train programs (seed names or .opt files) on proxy tasks with a learning-rate sweep and compare them with AdamW')
    .argument('<program...>', 'seed names, .opt files, or the second-order newton and hessianFree (full-batch, at equal gradient evaluations)');
  addSettingOptions(cmd, EVAL_SETTINGS).action(evalAction);
}

async function evalAction(programs: string[], flags: Record<string, unknown>): Promise<void> {
  // newton and hessianFree are library optimizers, not programs: they run by their own evaluator.
  const loaded: Loaded[] = programs.map((a) => (isSecondOrderName(a) ? { label: a as string, secondOrder: a } : loadProgram(a)));
  const recorded = recordedSettings(loaded, flags);
  const opts = readCommandSettings(EVAL_SETTINGS, flags);
  // Before any training: a typo in the path must not cost the run.
  if (opts.plot !== undefined) checkOutputPath(opts.plot, '--plot');
  numberRepeatedLabels(loaded);
  const registry = await taskRegistry(opts.tasksModule);
  for (const t of opts.task) if (!registry.get(t)) throw new UserError(`unknown task '${t}' (tasks: ${registry.names().join(', ')})`);
  const results: Compared[] = [];
  for (const l of loaded) results.push({ label: l.label, evaluation: await evaluateLoaded(l, opts, registry) });
  // Results first: whatever happens to the plot, nothing trained is lost.
  process.stdout.write(opts.json ? comparisonJson(results, opts) : comparisonTable(results, opts, recorded));
  if (!opts.plot) return;
  await writePlot(results, opts.plot, opts.seed);
  if (!opts.json) process.stdout.write(`\nwrote ${opts.plot}\n`);
}

/** The same program given twice is shown as `adam`, `adam#2`, ... */
function numberRepeatedLabels(loaded: { label: string }[]): void {
  const seen = new Map<string, number>();
  for (const l of loaded) {
    const n = (seen.get(l.label) ?? 0) + 1;
    seen.set(l.label, n);
    if (n > 1) l.label = `${l.label}#${n}`;
  }
}

/** Trains one program (or second-order optimizer) with the command's options; a missing backend or a bad task module is the user's one-line error. */
async function evaluateLoaded(l: Loaded, opts: EvalOptions, registry: TaskRegistry): Promise<Evaluation> {
  const { seed, steps, lrs, batchSize, schedule, init } = opts;
  try {
    if ('secondOrder' in l)
      return await evaluateSecondOrder(l.secondOrder, {
        ...(opts.task.length ? { tasks: opts.task } : { suite: opts.suite }),
        steps,
        lrs,
        batching: opts.batching,
        seed,
        backend: opts.backend,
        registry,
      });
    return await evaluate(l.program, {
      ...(opts.task.length ? { tasks: opts.task } : { suite: opts.suite }),
      steps,
      lrs,
      batch: opts.batch,
      batchSize,
      batching: opts.batching,
      schedule,
      init,
      // Only turned on here: absent, each task's own setting applies.
      ...(opts.whiten ? { whiten: true } : {}),
      sweep: opts.sweep,
      seed,
      backend: opts.backend,
      registry,
    });
  } catch (e) {
    const msg = errorMessage(e);
    if (/backend is not available/.test(msg) || e instanceof TaskDefinitionError) throw new UserError(msg.split('\n')[0] ?? msg);
    throw e;
  }
}

/** `--json`: the settings and every evaluation, as data. */
function comparisonJson(results: Compared[], opts: EvalOptions): string {
  const first = firstOf(results);
  return JSON.stringify({ backend: first.backend, backendDetail: first.backendDetail, seed: opts.seed, lrs: opts.lrs ?? DEFAULT_LRS, results: results.map((r) => ({ program: r.label, ...r.evaluation })) }, null, 2) + '\n';
}

/** The table: a row per task, a column per program, then fitness and seconds; the settings above it and the trainers' notes below. */
function comparisonTable(results: Compared[], opts: EvalOptions, recorded: { file: string; flags: string } | undefined): string {
  const first = firstOf(results);
  const lrs = opts.lrs ?? DEFAULT_LRS;
  const taskNames = first.tasks.map((t) => t.task);
  const header = ['task', ...results.map((r) => r.label)];
  const rows = [header, ...taskNames.map((t) => [t, ...results.map((r) => cell(r.evaluation, t))])];
  rows.push(['fitness', ...results.map((r) => (r.evaluation.fitness === null ? 'null' : r.evaluation.fitness.toFixed(3)))]);
  rows.push(['seconds', ...results.map((r) => (r.evaluation.ms / 1000).toFixed(1))]);
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  const lines = [
    ...(recorded ? [`evaluation settings from ${recorded.file} (as its run scored it): ${recorded.flags}`] : []),
    `backend: ${first.backendDetail}`,
    `${first.suite ? `suite ${first.suite}` : `tasks ${taskNames.join(', ')}`}, seed ${opts.seed}, ${lrs.length} rates, ${opts.batch ? 'batched where the model allows' : 'rates run separately'}`,
    'cells: validation loss [metric] @best rate, score against adamw (0 = as good, + better)',
    '',
    ...rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()),
  ];
  const notes = first.tasks.filter((t) => t.note && !t.note.startsWith('float64')).map((t) => `note: ${t.task}: ${t.note}`);
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}

/** `--plot`: each program's loss curve at its best rate, per task, as an SVG. */
async function writePlot(results: Compared[], file: string, seed: number): Promise<void> {
  const series = results.flatMap((r) => r.evaluation.tasks.map((t) => ({ program: r.label, task: t.task, steps: t.steps, curve: t.curve })));
  writeOutputFile(file, await lossCurvesSvg(series, `training loss at the best rate (${firstOf(results).suite ?? 'tasks'}, seed ${seed})`), '--plot');
}

/** The first program's evaluation: it names the backend, suite and tasks (commander requires at least one program). */
function firstOf(results: Compared[]): Evaluation {
  const first = results[0];
  if (!first) throw new Error('eval: no program evaluated');
  return first.evaluation;
}
