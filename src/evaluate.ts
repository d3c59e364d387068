/**
 * The evaluation API the search calls: train a program on a suite (or a list
 * of tasks) with a learning-rate sweep, and score it against a reference
 * optimizer.
 *
 * For each task: every rate of the sweep is trained (stacked replicas where
 * the model allows, else separately; with `sweep: 'halving'`, what the
 * search and `optevo eval` ask for by default, the rates clearly behind stop
 * early: src/train/halving.ts), then a second pass refines around the
 * best rate (halfway, geometrically, to each neighbour of the grid: a
 * quarter decade on the default half-decade grid), so that no program wins
 * by landing between two grid points. The best rate is the one with the
 * lowest validation loss, and the task's score compares that loss with the
 * reference's (AdamW, swept and refined the same way, cached per task
 * configuration):
 *
 *   r     = ln((L_ref + f) / (L + f))
 *   score = r / sqrt(1 + (r / B)^2),   B = 3
 *
 * where f is the task's loss floor (its noise level: below it, losses count
 * as equal). Higher is better; 0 is as good as AdamW. Near 0 the score is r
 * itself (+0.69 is half AdamW's loss); far from it the score bends smoothly
 * towards +-B without reaching it, so that a task keeps telling a loss 100
 * times worse from one 1,000 times worse (r = -4.6 scores -2.51, r = -6.9
 * scores -2.75) instead of clipping both to the same bound.
 * A task where every rate failed scores FAILED_SCORE (-4), below any
 * finished run; where the reference fails and the program does not, the
 * program scores B. The fitness is the mean of the task scores, null when
 * the program failed every task.
 *
 * The evaluation also flags a constant drift (dsl/drift.ts): an update that
 * moves the weights by an amount that depends on neither the gradient nor the
 * weights. The search never lets such a program lead.
 *
 * Same program, options and backend: the same numbers, bit for bit. No
 * global state but caches (datasets, whitening, reference results).
 */
import type { Program } from '../dsl/ast.js';
import { check } from '../dsl/check.js';
import { constantDrift } from '../dsl/drift.js';
import { usesLearningRate } from '../dsl/fingerprint.js';
import { parse } from '../dsl/parse.js';
import { suiteFailure, suiteFitness } from '../search/suite-result.js';
import type { EvalJob, ReferenceResult, SuiteName, SuiteResult, TaskResult } from '../search/types.js';
import type { SuiteName as TaskSuiteName } from './tasks/types.js';
import { seedProgram } from '../seeds/index.js';
import { initBackend, type BackendName } from './backend.js';
import type { Dataset } from './data/dataset.js';
import { taskDataset, whitenedDataset } from './data/setup-cache.js';
import { BUILTIN_TASKS, TaskRegistry } from './tasks/registry.js';
import type { Batching, Task, TfTask } from './tasks/types.js';
import { trainArrayTask } from './train/array-trainer.js';
import type { InitRule } from './train/init.js';
import { DEFAULT_MONITOR } from './train/monitor.js';
import type { RunResult, TrainSettings } from './train/settings.js';
import type { Schedule } from './train/schedule.js';
import type { HalvingRule } from './train/halving.js';
import { type SweepKind, trainTfTask } from './train/tf-trainer.js';
import { errorMessage } from '../dsl/errors.js';

/** Rates swept by default: 1e-4 to 10^-0.5, half a decade apart (8 rates); the refinement adds two around the best. */
export const DEFAULT_LRS: readonly number[] = [1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2, 3.16e-2, 1e-1, 3.16e-1];
/** The bound that scores approach (smoothly) but never reach. */
export const SCORE_BOUND = 3;
export const FAILED_SCORE = -4;
export { REFERENCE } from './reference.js';
import { REFERENCE } from './reference.js';

// The tasks own their suite names and the search asks for suites by name in its
// evaluation interface; this module joins the two, so they must be the same names.
true satisfies SameType<SuiteName, TaskSuiteName>;
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Every option may be left out or given as undefined: either way its default applies. */
export interface EvaluateOptions {
  suite?: SuiteName | undefined;
  /** Task names (looked up in `registry`) or task objects; overrides `suite`. */
  tasks?: (string | Task)[] | undefined;
  /** Only these tasks of `suite`, in this order (one part of a suite run as several jobs). */
  only?: readonly string[] | undefined;
  lrs?: readonly number[] | undefined;
  /** Override every task's step count. */
  steps?: number | undefined;
  seed?: number | undefined;
  backend?: BackendName | undefined;
  /** False: run each rate separately (`--no-batch`). */
  batch?: boolean | undefined;
  /** 'halving': the rates clearly behind are stopped at rungs (src/train/halving.ts); default 'full'. */
  sweep?: SweepKind | undefined;
  /** Benchmarks only: a halving rule other than the default. */
  halving?: HalvingRule | undefined;
  /** Benchmarks only: record every rate's ranking at every 1/n of the steps (RunResult.ranking). */
  recordRanking?: number | undefined;
  /** Program hyperparameters by snake_case name. */
  hparams?: Record<string, number> | undefined;
  /** False: skip the reference and leave scores null. */
  reference?: boolean | undefined;
  /** Where task names are looked up (default: the built-ins). */
  registry?: TaskRegistry | undefined;
  /** Reference results by task name, computed elsewhere (once per run): used instead of training the reference. */
  references?: Record<string, ReferenceResult> | undefined;
  /** Told which task and rates are training and at which step (about 50 times per run). */
  onProgress?: ((p: { task: string; lrs: readonly number[]; step: number; steps: number }) => void) | undefined;
  batchSize?: number | undefined;
  batching?: Batching | undefined;
  schedule?: Schedule | undefined;
  init?: InitRule | undefined;
  whiten?: boolean | undefined;
}

export interface TaskEvaluation extends TaskResult {
  suite: SuiteName;
  steps: number;
  /** Every rate's run. */
  runs: RunResult[];
  /** The reference optimizer's best run on the same task and rates. */
  reference: { lr: number | null; loss: number | null; metric: number | null; failure?: string } | null;
  timings: { setupMs: number; trainMs: number; referenceMs: number; stepsPerSecond: number };
  /** Why the sweep ran separately, or other remarks. */
  note?: string;
}

export interface Evaluation {
  suite: SuiteName | null;
  fitness: number | null;
  tasks: TaskEvaluation[];
  ms: number;
  failure?: string;
  /** Set when the update moves the weights by an amount independent of gradient and weights (dsl/drift.ts). */
  drift?: string;
  backend: string;
  backendDetail: string;
}

interface RefEntry {
  lr: number | null;
  loss: number | null;
  metric: number | null;
  failure?: string;
  ms: number;
}

const referenceCache = new Map<string, RefEntry>();
const customIds = new WeakMap<Task, number>();
let nextCustomId = 1;

/** Forgets the reference results computed in this process (tests that count reference trainings). */
export function clearReferenceCache(): void {
  referenceCache.clear();
}

export async function evaluate(program: Program | string, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const t0 = performance.now();
  const p = typeof program === 'string' ? parse(program) : program;
  check(p);
  const be = await initBackend(opts.backend ?? 'auto');
  if (be.tf.getBackend() !== be.tfBackend) await be.tf.setBackend(be.tfBackend);
  const tasks = resolveTasks(opts);
  const lrs = opts.lrs ?? DEFAULT_LRS;
  if (lrs.length === 0 || !lrs.every((l) => Number.isFinite(l) && l > 0)) throw new Error('learning rates must be positive numbers');
  // A program that ignores lr would train the same run at every rate: one rate is the whole sweep.
  const programLrs = lrs.length > 1 && !opts.hparams && !usesLearningRate(p, { checked: true }) ? [lrs[0]!] : lrs;
  const results: TaskEvaluation[] = [];
  for (const task of tasks) results.push(await evaluateTask(be.tf, be.name, task, p, lrs, programLrs, opts));
  const failure = suiteFailure(results);
  const drift = constantDrift(p, opts.hparams);
  return {
    suite: opts.tasks ? null : (opts.suite ?? 'quick'),
    fitness: failure ? null : suiteFitness(results),
    tasks: results,
    ms: performance.now() - t0,
    ...(failure ? { failure } : {}),
    ...(drift ? { drift } : {}),
    backend: be.name,
    backendDetail: be.detail,
  };
}

/** The executor's entry point: one job, a SuiteResult with exactly the shared fields. */
export async function evaluateJob(
  job: EvalJob,
  backend: BackendName = 'auto',
  registry?: TaskRegistry,
  onProgress?: EvaluateOptions['onProgress'],
): Promise<SuiteResult> {
  let e: Evaluation;
  try {
    e = await evaluate(parse(job.source), {
      suite: job.suite,
      seed: job.seed,
      lrs: job.lrs,
      steps: job.steps,
      sweep: job.sweep,
      backend,
      registry,
      references: job.references,
      reference: job.score,
      only: job.tasks,
      onProgress,
    });
  } catch (err) {
    // The program's own failures (NaN, divergence, errors in its steps) are
    // scored inside evaluate; what escapes it is the surroundings' (task
    // data, a user's tasks module, the backend) and must not become the
    // program's score: the executor reports it as a failed evaluation.
    throw new Error(errorMessage(err).split('\n')[0]!);
  }
  return toSuiteResult(e, job.suite);
}

export function toSuiteResult(e: Evaluation, suite: SuiteName): SuiteResult {
  return {
    suite,
    fitness: e.fitness,
    tasks: e.tasks.map((t) => {
      const r: TaskResult = { task: t.task, lr: t.lr, loss: t.loss, metric: t.metric, score: t.score, curve: t.curve, ms: t.ms };
      if (t.failure !== undefined) r.failure = t.failure;
      if (t.plateauAt !== undefined) r.plateauAt = t.plateauAt;
      if (t.batched !== undefined) r.batched = t.batched;
      return r;
    }),
    ms: e.ms,
    ...(e.failure ? { failure: e.failure } : {}),
    ...(e.drift ? { drift: e.drift } : {}),
  };
}

function resolveTasks(opts: EvaluateOptions): Task[] {
  const reg = opts.registry ?? new TaskRegistry(BUILTIN_TASKS);
  if (opts.tasks && opts.tasks.length) {
    return opts.tasks.map((t) => {
      if (typeof t !== 'string') return t;
      const found = reg.get(t);
      if (!found) throw new Error(`unknown task '${t}' (tasks: ${reg.names().join(', ')})`);
      return found;
    });
  }
  const suite = reg.suite(opts.suite ?? 'quick');
  if (!opts.only) return suite;
  // A part of the suite (the search splits heavy suites into one job per task).
  return opts.only.map((name) => {
    const found = suite.find((t) => t.name === name);
    if (!found) throw new Error(`task '${name}' is not in the ${opts.suite ?? 'quick'} suite (${suite.map((t) => t.name).join(', ')})`);
    return found;
  });
}

function settingsFor(task: Task, opts: EvaluateOptions): TrainSettings {
  const steps = opts.steps ?? task.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  return {
    seed: opts.seed ?? 0,
    steps,
    batchSize: opts.batchSize ?? task.batchSize,
    batching: opts.batching ?? task.batching,
    schedule: opts.schedule ?? task.schedule,
    ...(opts.init ? { init: opts.init } : {}),
    ...(opts.sweep && opts.sweep !== 'full' ? { sweep: opts.sweep } : {}),
    ...(opts.halving ? { halving: opts.halving } : {}),
    ...(opts.recordRanking ? { recordRanking: opts.recordRanking } : {}),
    monitor: { ...DEFAULT_MONITOR, divergence: task.divergence },
  };
}

/** The reference results of a reference evaluation (`score: false` of the reference program), by task. */
export function referenceResults(r: SuiteResult): Record<string, ReferenceResult> {
  const out: Record<string, ReferenceResult> = {};
  for (const t of r.tasks) out[t.task] = { lr: t.lr, loss: t.loss, metric: t.metric, ...(t.failure ? { failure: t.failure } : {}) };
  return out;
}

function prepareData(task: TfTask, seed: number, whiten: boolean): { ds: Dataset; note?: string } {
  const ds = taskDataset(task, seed);
  return whiten ? whitenedDataset(task, ds, seed) : { ds };
}

interface Sweep {
  runs: RunResult[];
  batched?: boolean;
  note?: string;
  setupMs: number;
  trainMs: number;
  stepsPerSecond: number;
}

/** The grid, then the refinement around its best rate: one list of runs. */
async function sweep(tf: import('./tasks/types.js').Tfjs, task: Task, program: Program, lrs: readonly number[], s: TrainSettings, opts: EvaluateOptions): Promise<Sweep> {
  const first = await sweepRates(tf, task, program, lrs, s, opts);
  const best = bestRun(first.runs);
  const extra = best ? refinedRates(lrs, best.lr).filter((lr) => !lrs.includes(lr)) : [];
  if (extra.length === 0) return first;
  const second = await sweepRates(tf, task, program, extra, s, opts);
  const steps = s.steps * (lrs.length + extra.length);
  const trainMs = first.trainMs + second.trainMs;
  return {
    ...first,
    runs: [...first.runs, ...second.runs],
    setupMs: first.setupMs + second.setupMs,
    trainMs,
    stepsPerSecond: trainMs > 0 ? steps / (trainMs / 1000) : first.stepsPerSecond,
  };
}

async function sweepRates(tf: import('./tasks/types.js').Tfjs, task: Task, program: Program, lrs: readonly number[], s0: TrainSettings, opts: EvaluateOptions): Promise<Sweep> {
  const report = opts.onProgress;
  const s: TrainSettings = report ? { ...s0, monitor: { ...s0.monitor, onStep: (step) => report({ task: task.name, lrs, step, steps: s0.steps }) } } : s0;
  if (task.kind === 'array') {
    const r = trainArrayTask(task, program, lrs, s);
    return { runs: r.runs, setupMs: r.setupMs, trainMs: r.trainMs, stepsPerSecond: (s.steps * lrs.length) / (r.trainMs / 1000), note: 'float64 interpreter: rates run one after another' };
  }
  const t0 = performance.now();
  const { ds, note: dataNote } = prepareData(task, s.seed, opts.whiten ?? task.whiten);
  const setupMs = performance.now() - t0;
  const r = await trainTfTask(tf, task, ds, program, lrs, s, opts.batch === false ? 'separate' : 'batched');
  const note = [r.note, dataNote].filter((x) => x).join('; ');
  return { runs: r.runs, batched: r.batched, ...(note ? { note } : {}), setupMs, trainMs: r.trainMs, stepsPerSecond: r.stepsPerSecond };
}

function bestRun(runs: RunResult[]): RunResult | null {
  let best: RunResult | null = null;
  for (const r of runs) if (r.loss !== null && (best === null || r.loss < best.loss!)) best = r;
  return best;
}

async function evaluateTask(
  tf: import('./tasks/types.js').Tfjs,
  backend: string,
  task: Task,
  program: Program,
  lrs: readonly number[],
  programLrs: readonly number[],
  opts: EvaluateOptions,
): Promise<TaskEvaluation> {
  const t0 = performance.now();
  const s = settingsFor(task, opts);
  const programSettings = opts.hparams ? { ...s, hparams: opts.hparams } : s;
  const sw = await sweep(tf, task, program, programLrs, programSettings, opts);
  const best = bestRun(sw.runs);

  let reference: RefEntry | null = null;
  const given = opts.references?.[task.name];
  if (given) reference = { ...given, ms: 0 };
  else if (opts.reference !== false) {
    const key = JSON.stringify({
      task: task.custom ? `${task.name}#${customId(task)}` : task.name,
      suite: task.suite,
      backend,
      lrs,
      whiten: opts.whiten ?? (task.kind === 'tf' ? task.whiten : false),
      batch: opts.batch !== false,
      ...s,
    });
    reference = referenceCache.get(key) ?? null;
    if (!reference) {
      const r0 = performance.now();
      const rs = await sweep(tf, task, seedProgram(REFERENCE), lrs, s, opts);
      const rb = bestRun(rs.runs);
      reference = rb
        ? { lr: rb.lr, loss: rb.loss, metric: rb.metric, ms: performance.now() - r0 }
        : { lr: null, loss: null, metric: null, failure: rs.runs[0]?.failure ?? 'failed', ms: performance.now() - r0 };
      referenceCache.set(key, reference);
      // Every score on this task is measured against the reference: say so once when it has none
      // (in a worker, this reaches the run log as a warning).
      if (reference.loss === null) console.warn(referenceFailedNote(task.name, reference.failure));
    }
  }
  const failure = best ? undefined : summariseFailures(sw.runs);
  const score = reference === null ? null : normalisedScore(best?.loss ?? null, reference.loss, task.lossFloor);
  const out: TaskEvaluation = {
    task: task.name,
    suite: task.suite,
    steps: s.steps,
    lr: best?.lr ?? null,
    loss: best?.loss ?? null,
    metric: best?.metric ?? null,
    score,
    curve: best?.curve ?? [],
    ms: performance.now() - t0,
    runs: sw.runs,
    reference: reference ? { lr: reference.lr, loss: reference.loss, metric: reference.metric, ...(reference.failure ? { failure: reference.failure } : {}) } : null,
    timings: { setupMs: sw.setupMs, trainMs: sw.trainMs, referenceMs: reference?.ms ?? 0, stepsPerSecond: sw.stepsPerSecond },
  };
  if (failure) out.failure = failure;
  if (best?.plateauAt !== undefined) out.plateauAt = best.plateauAt;
  if (sw.batched !== undefined) out.batched = sw.batched;
  if (sw.note) out.note = sw.note;
  if (reference && reference.loss === null) out.note = [referenceFailedNote(task.name, reference.failure), out.note].filter((x) => x).join('; ');
  return out;
}

function referenceFailedNote(task: string, failure: string | undefined): string {
  return `the reference ${REFERENCE} failed on task '${task}' at every rate (${failure ?? 'no finite loss'}): its scores compare with a failed run`;
}

function customId(t: Task): number {
  let id = customIds.get(t);
  if (id === undefined) customIds.set(t, (id = nextCustomId++));
  return id;
}

/** One line for a task that failed at every rate: the reason at the smallest rate, and how many rates share it. */
function summariseFailures(runs: RunResult[]): string {
  const first = runs[0]?.failure ?? 'failed';
  return runs.length > 1 ? `every rate failed (at lr ${runs[0]!.lr}: ${first})` : first;
}

/** The normalised score described at the top of this file. */
export function normalisedScore(loss: number | null, refLoss: number | null, floor: number): number {
  if (loss === null) return FAILED_SCORE;
  if (refLoss === null) return SCORE_BOUND;
  const f = Math.max(floor, 1e-12);
  return smoothBound(Math.log((refLoss + f) / (loss + f)));
}

/** r / sqrt(1 + (r / B)^2): slope 1 at 0, odd, strictly increasing, within (-B, B). */
export function smoothBound(r: number, bound = SCORE_BOUND): number {
  if (r === Infinity) return bound;
  if (r === -Infinity) return -bound;
  return r / Math.sqrt(1 + (r / bound) ** 2);
}

/**
 * The rates of the second pass: halfway (geometrically) from the best rate
 * to each neighbour on the grid; at an edge of the grid, as far beyond it.
 * None for a grid of one rate (the user asked for exactly that rate).
 */
export function refinedRates(lrs: readonly number[], best: number): number[] {
  const grid = [...new Set(lrs)].sort((a, b) => a - b);
  const i = grid.indexOf(best);
  if (grid.length < 2 || i < 0) return [];
  const below = i > 0 ? grid[i]! / grid[i - 1]! : grid[i + 1]! / grid[i]!;
  const above = i + 1 < grid.length ? grid[i + 1]! / grid[i]! : grid[i]! / grid[i - 1]!;
  return [best / Math.sqrt(below), best * Math.sqrt(above)].map((x) => Number(x.toPrecision(3)));
}
