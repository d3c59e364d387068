/**
 * Judging one bred child: what the search knows before any training (invalid,
 * or equivalent to an earlier child), then the quick suite, the hurdle, and
 * the standard suite. A failing program is a score (`failed`), never a fault
 * of the search. An evaluation whose worker crashed is run once more, and so
 * is one that timed out, except in meta-validation. An evaluation that still
 * fails is the machine's failure, not the program's (no backend, a time-out,
 * a crash, an exception outside the program's training): `EnvironmentFault`,
 * which stops the run without recording anything for the child.
 */
import { errorMessage } from '../dsl/errors.js';
import type { SearchConfig } from './config.js';
import { SearchFault } from './breed.js';
import { passes, type Hurdle } from './hurdle.js';
import type { Prepared } from './prepare.js';
import type { ChildRecord, EvalJob, EvalOutcome, Executor, MutationKind, SuiteName, SuiteResult } from './types.js';

/** Returned instead of an outcome when the search stops while a job waits or runs. */
export const STOP = Symbol('stop');
export type Stop = typeof STOP;

/** A child bred and waiting for (or under) evaluation. */
export interface Bred {
  id: number;
  parent: number | null;
  mutation: MutationKind;
  detail: string;
  source: string;
  prepared: Prepared;
  /** The earlier child whose score this one reuses (same hash or fingerprint). */
  cachedFrom: number | null;
  /** Seeds run every stage; other children face the hurdle. */
  hurdle: Hurdle | null;
}

export type JobSettings = Pick<SearchConfig, 'evalSeed' | 'lrs' | 'steps'> & Partial<Pick<SearchConfig, 'sweep'>>;

export function evalJob(config: JobSettings, childId: number, source: string, suite: SuiteName): EvalJob {
  return {
    childId,
    source,
    suite,
    seed: config.evalSeed,
    lrs: config.lrs,
    ...(config.steps !== undefined ? { steps: config.steps } : {}),
    ...(config.sweep !== undefined && config.sweep !== 'full' ? { sweep: config.sweep } : {}),
  };
}

/** How a job reaches the executor: behind the pause gate, until the search stops. */
export interface JobRunner {
  executor: Pick<Executor, 'evaluate'>;
  /** Resolves when the search is not paused. */
  gate(): Promise<void>;
  stopping(): boolean;
  /** True once no new evaluation may start (a run past its `--time`); those running finish. */
  closing?(): boolean;
  warn(message: string): void;
}

/** Runs a job, once more if its worker crashed or hung. Never rejects. */
export async function runJob(r: JobRunner, job: EvalJob): Promise<EvalOutcome | Stop> {
  for (let attempt = 1; ; attempt++) {
    await r.gate();
    if (r.stopping() || r.closing?.()) return STOP;
    let out: EvalOutcome;
    try {
      out = await r.executor.evaluate(job);
    } catch (e) {
      out = { ok: false, reason: `executor fault: ${errorMessage(e)}`, crashed: true };
    }
    if (r.stopping()) return STOP;
    // Cancelled before a worker took it: the run is closing, nothing was computed.
    if (!out.ok && out.cancelled === true) return STOP;
    // A crash is retried once; so is a time-out, except in meta-validation, whose big
    // tasks would only time out again.
    if (out.ok || attempt >= 2) return out;
    const retry = out.crashed === true || (out.timedOut === true && job.suite !== 'metaval');
    if (!retry) return out;
    r.warn(`child ${job.childId} (${job.suite}): ${out.reason}; retrying once`);
  }
}

export interface JudgeContext {
  config: JobSettings & Pick<SearchConfig, 'suite'>;
  run(job: EvalJob): Promise<EvalOutcome | Stop>;
  /** The fitness of an earlier child, committed or still being judged. */
  scoreOf(id: number): Promise<{ fitness: number | null }>;
  /** Milliseconds clock. */
  now(): number;
}

type Valid = Bred & { prepared: Extract<Prepared, { ok: true }> };

/** Judges a bred child: its record, or `STOP` when the search stopped before the child was judged. */
export async function judge(b: Bred, ctx: JudgeContext): Promise<ChildRecord | Stop> {
  if (!b.prepared.ok) return invalidRecord(b, b.prepared.reason);
  const v = b as Valid;
  if (v.cachedFrom !== null) {
    const from = await ctx.scoreOf(v.cachedFrom);
    return {
      ...recordBase(v),
      ...analysis(v),
      status: 'cached',
      fitness: from.fitness,
      quick: null,
      standard: null,
      cachedFrom: v.cachedFrom,
      failure: from.fitness === null ? 'cached failure' : null,
      ms: 0,
    };
  }
  const source = v.prepared.simplified;
  const q = await ctx.run(evalJob(ctx.config, v.id, source, 'quick'));
  if (q === STOP) return STOP;
  if (!q.ok) throw new EnvironmentFault(v.id, 'quick', q.reason);
  const quick = q.result;
  if (!isScore(quick.fitness)) return failedRecord(v, quick.failure ?? 'no finite fitness', quick, null, quick.ms);
  if (ctx.config.suite === 'quick') return okRecord(v, quick.fitness, quick, null, quick.ms);
  if (v.hurdle !== null && !passes(quick.fitness, v.hurdle))
    return { ...recordBase(v), ...analysis(v), status: 'pruned', fitness: quick.fitness + v.hurdle.offset, quick, standard: null, cachedFrom: null, failure: null, ms: quick.ms };
  const s = await ctx.run(evalJob(ctx.config, v.id, source, 'standard'));
  if (s === STOP) return STOP;
  if (!s.ok) throw new EnvironmentFault(v.id, 'standard', s.reason);
  const standard: SuiteResult = s.result;
  const ms = quick.ms + standard.ms;
  if (!isScore(standard.fitness)) return failedRecord(v, standard.failure ?? 'no finite fitness', quick, standard, ms);
  return okRecord(v, standard.fitness, quick, standard, ms);
}

/** A child could not be judged because of the machine, not the program: the run stops, and a resume judges it again. */
export class EnvironmentFault extends SearchFault {
  constructor(
    readonly childId: number,
    readonly suite: SuiteName,
    readonly reason: string,
  ) {
    super(
      `child ${childId} could not be judged (${suite} suite): ${reason}. This is a fault of the machine or the settings, not of the program: ` +
        'nothing was recorded for it, and a resume (--resume, where --backend, --workers and --eval-timeout may change) judges it again',
    );
    this.name = 'EnvironmentFault';
  }
}

/** A bug while judging a child ends that child as `failed`, not the run. */
export function faultRecord(b: Bred, reason: string): ChildRecord {
  return b.prepared.ok ? failedRecord(b as Valid, reason, null, null, 0) : invalidRecord(b, reason);
}

function recordBase(b: Bred) {
  return { id: b.id, parent: b.parent, mutation: b.mutation, mutationDetail: b.detail, source: b.source, metaval: null, at: '' };
}

function analysis(b: Valid) {
  const { simplified, hash, family, fingerprint, size } = b.prepared;
  return { simplified, hash, fingerprint, size, family };
}

function invalidRecord(b: Bred, reason: string): ChildRecord {
  return { ...recordBase(b), status: 'invalid', fitness: null, quick: null, standard: null, cachedFrom: null, failure: reason, ms: 0 };
}

function failedRecord(b: Valid, failure: string, quick: SuiteResult | null, standard: SuiteResult | null, ms: number): ChildRecord {
  return { ...recordBase(b), ...analysis(b), status: 'failed', fitness: null, quick, standard, cachedFrom: null, failure, ms };
}

function okRecord(b: Valid, fitness: number, quick: SuiteResult, standard: SuiteResult | null, ms: number): ChildRecord {
  return { ...recordBase(b), ...analysis(b), status: 'ok', fitness, quick, standard, cachedFrom: null, failure: null, ms };
}

export function isScore(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
