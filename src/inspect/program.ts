/**
 * One program of a run: its detail for `optevo show RUN --program ID`, the
 * program file that `optevo export RUN --program ID` writes, and its loss
 * curves against the seeds' for `--plot`.
 */
import { check } from '../../dsl/check.js';
import { parse } from '../../dsl/parse.js';
import type { MetavalRow } from '../../search/store.js';
import type { RunReader } from './reader.js';
import { rankedTasks, sizeOf, trainedText, type ChildRecord, type SuiteResult, type TaskResult } from '../../search/types.js';
import { UserError } from '../user-error.js';
import { describeMutation, formatFitness, formatLr, padLeft, padRight } from '../format.js';
import { formatEvaluationHeader } from './evaluation-header.js';
import { childOrFail, parseProgramId, withRun } from './open.js';
import type { CurveSeries } from './plot.js';
import { errorMessage } from '../../dsl/errors.js';
import { recommendation } from './run-report.js';

export interface LineageStep {
  id: number;
  parent: number | null;
  mutation: ChildRecord['mutation'];
  mutationDetail: string;
  fitness: number | null;
  status: ChildRecord['status'];
}

export interface ProgramDetail {
  run: string;
  child: ChildRecord;
  /** The program, its parent, ... back to a seed. */
  lineage: LineageStep[];
  metaval: MetavalRow | null;
}

export function programDetail(store: RunReader, id: number): ProgramDetail {
  const child = childOrFail(store, id);
  const lineage = store.lineage(id).map((c) => ({
    id: c.id,
    parent: c.parent,
    mutation: c.mutation,
    mutationDetail: c.mutationDetail,
    fitness: c.fitness,
    status: c.status,
  }));
  const metaval = store.metavalResults().find((m) => m.id === id) ?? null;
  return { run: store.info().name, child, lineage, metaval };
}

function indent(text: string): string[] {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : `  ${l}`));
}

function suiteTable(s: SuiteResult): string[] {
  const nameWidth = Math.max(4, ...s.tasks.map((t) => t.task.length));
  const head = `  ${padRight('task', nameWidth)}  ${padLeft('score', 8)}  ${padLeft('loss', 9)}  ${padLeft('metric', 8)}  ${padLeft('best lr', 8)}  ${padLeft('time', 7)}`;
  const rows = s.tasks.map(
    (t: TaskResult) =>
      `  ${t.task.padEnd(nameWidth)}  ${padLeft(formatFitness(t.score), 8)}  ${padLeft(formatFitness(t.loss), 9)}  ${padLeft(formatFitness(t.metric), 8)}  ${padLeft(formatLr(t.lr), 8)}  ${padLeft(`${(t.ms / 1000).toFixed(1)}s`, 7)}${t.failure ? `  failed: ${t.failure}` : ''}`,
  );
  return [head, ...rows];
}

/** A lineage step on one line: `#17  0.290  modify s3: sqrt -> cbrt`. */
function lineageLine(step: LineageStep, idWidth: number): string {
  const how = describeMutation(step.mutation, step.mutationDetail);
  return `  ${padLeft(`#${step.id}`, idWidth)}  ${padLeft(formatFitness(step.fitness), 8)}  ${padRight(step.status, 7)}  ${how}`;
}

/** What `optevo show RUN --program ID` prints. */
export function formatProgramDetail(d: ProgramDetail): string {
  const c = d.child;
  const suite = c.standard ? 'standard suite' : c.quick ? 'quick suite' : 'no suite';
  const out: string[] = [];
  out.push(`program #${c.id} of run ${d.run}`);
  out.push(
    `  fitness ${formatFitness(c.fitness)} (${suite}), meta-validation ${formatFitness(c.metaval)}, size ${sizeOf(c)}, status ${c.status}` +
      (c.cachedFrom !== null ? ` (score reused from #${c.cachedFrom})` : ''),
  );
  out.push(`  made by ${describeMutation(c.mutation, c.mutationDetail)}${c.parent === null ? '' : ` from #${c.parent}`}`);
  if (c.failure) out.push(`  failure: ${c.failure}`);
  out.push('', 'simplified:', ...indent(trainedText(c)));
  out.push('', 'source (as trained):', ...indent(c.source));
  for (const s of [c.standard, c.quick]) {
    if (!s) continue;
    out.push('', `${s.suite} suite: fitness ${formatFitness(s.fitness)}`, ...suiteTable(s));
  }
  if (d.metaval?.result && d.metaval.result.tasks.length > 0) {
    out.push('', `meta-validation: fitness ${formatFitness(d.metaval.fitness)}`, ...suiteTable(d.metaval.result));
  } else if (d.metaval) {
    out.push('', `meta-validation: ${d.metaval.status}`);
  }
  const idWidth = Math.max(...d.lineage.map((s) => String(s.id).length)) + 1;
  const root = d.lineage[d.lineage.length - 1];
  const reachesSeed = root?.mutation === 'seed';
  out.push('', `lineage (${d.lineage.length} program${d.lineage.length === 1 ? '' : 's'}, newest first${reachesSeed ? ', back to a seed' : ''}):`);
  for (const s of d.lineage) out.push(lineageLine(s, idWidth));
  return out.join('\n');
}

/** The lineage as one comment-friendly line: `#42 <- #17 (modify ...) <- #1 (seed adamw)`. */
function lineageSummary(d: ProgramDetail): string {
  return d.lineage
    .map((s) => `#${s.id}${s.mutation === 'seed' ? ` (${describeMutation(s.mutation, s.mutationDetail)})` : ''}`)
    .join(' <- ');
}

export interface ExportOptions {
  /** Write the simplified program instead of the source exactly as trained. */
  simplified?: boolean;
}

/**
 * The program file for `optevo export RUN --program ID > found.opt`: a
 * comment saying where it came from and how it scored, then the program.
 * Parsed before it is returned, so what is written is a valid program.
 */
export function exportProgram(store: RunReader, id: number, opts: ExportOptions = {}): string {
  const d = programDetail(store, id);
  const c = d.child;
  if (c.status === 'invalid') throw new UserError(`program #${id} of run '${d.run}' is invalid (it failed the checker): there is nothing to export`);
  const body = (opts.simplified ? c.simplified : c.source).replace(/\s+$/, '') + '\n';
  const tasks = rankedTasks(c);
  const header = [
    `Found by optevo: run ${d.run}, program #${c.id}, fitness ${formatFitness(c.fitness)}` +
      (c.metaval === null ? '' : `, meta-validation ${formatFitness(c.metaval)}`) +
      `, status ${c.status}.`,
    ...(tasks.length > 0 ? [`Best learning rates (learningRate) per task: ${tasks.map((t) => `${t.task} ${formatLr(t.lr)}`).join(', ')}.`] : []),
    `Lineage: ${lineageSummary(d)}.`,
    formatEvaluationHeader(store.config()),
    ...(opts.simplified ? ['This is the simplified form of the program that was trained (the same function, without dead state).'] : []),
  ];
  const text = header.map((l) => `# ${l}`).join('\n') + '\n\n' + body;
  try {
    check(parse(text, { file: `program #${c.id}` }), { file: `program #${c.id}` });
  } catch (e) {
    throw new Error(`program #${c.id} of run '${d.run}' is not a valid program after export: ${errorMessage(e)}`);
  }
  return text;
}

/**
 * The program's training-loss curves and the seeds', task by task, on the
 * suite the program was ranked on. `stepsOf` gives a task's step count (the
 * run's `--steps`, else the task's default) so curves are drawn against steps.
 */
export function curveSeries(store: RunReader, id: number, stepsOf: (task: string) => number | undefined = () => undefined): CurveSeries[] {
  const c = childOrFail(store, id);
  const suite = c.standard ? 'standard' : 'quick';
  const pick = (x: ChildRecord) => (suite === 'standard' ? x.standard : x.quick);
  const own = pick(c);
  if (!own || own.tasks.length === 0) throw new UserError(`program #${id} has no training curves to plot (status ${c.status})`);
  const configured = store.config().steps;
  const series = (label: string, t: TaskResult): CurveSeries => ({
    program: label,
    task: t.task,
    steps: configured ?? stepsOf(t.task) ?? Math.max(1, t.curve.length),
    curve: [...t.curve],
  });
  const tasks = new Set(own.tasks.map((t) => t.task));
  const out = own.tasks.map((t) => series(`#${c.id}`, t));
  const seeds = store.children({ from: 1, limit: store.seeds().length + 16 }).filter((x) => x.mutation === 'seed' && x.id !== c.id);
  for (const s of seeds) {
    const name = `${describeMutation(s.mutation, s.mutationDetail)} (#${s.id})`;
    for (const t of pick(s)?.tasks ?? []) if (tasks.has(t.task)) out.push(series(name, t));
  }
  return out;
}

/**
 * `optevo export RUN --program ID | --best`: the program file's text, by id or
 * (`best`) the one the run recommends (the funnel). `dir` is where runs live.
 */
export function programFileFor(run: string, opts: { program?: string; best?: boolean; dir?: string | undefined; simplified?: boolean }): string {
  return withRun(run, opts.dir, (store) => {
    let id: number;
    if (opts.best) {
      const r = recommendation(store);
      if (r === null) throw new UserError(`run '${store.info().name}' has no trained program yet`);
      id = r.id;
    } else id = parseProgramId(opts.program ?? '');
    return exportProgram(store, id, { simplified: opts.simplified ?? false });
  });
}
