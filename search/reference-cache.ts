/**
 * The reference program's results (AdamW, and its twin that measures the
 * noise) are the same for every run on a machine that asks for them with
 * the same settings: the same suite or task, evaluation seed, rates, steps
 * and sweep. A run stores them in its own store; this cache keeps them
 * across runs too, so that a machine's second search, or a resume after its
 * first was cut short halfway through the held-out suite's reference, does
 * not spend its meta-validation share computing them again.
 *
 * The engine only asks by job; an implementation adds what else a result
 * depends on (the code, the backend, a tasks module: src/reference-cache.ts)
 * and keeps or drops entries as it likes. A miss is always safe.
 */
import type { Awaitable } from './run-store.js';
import type { EvalJob, SuiteResult } from './types.js';

export interface ReferenceCache {
  get(jobKey: string): Awaitable<SuiteResult | undefined>;
  put(jobKey: string, result: SuiteResult): Awaitable<void>;
}

/**
 * What in a job decides its result, as one string. Not the child id, the
 * urgency or the time limit, which change when and for whom it runs, not
 * what it computes.
 */
export function referenceJobKey(job: EvalJob): string {
  const { source, suite, seed, lrs, steps, sweep, references, score, tasks } = job;
  return JSON.stringify({
    source,
    suite,
    seed,
    lrs,
    steps: steps ?? null,
    sweep: sweep ?? 'full',
    references: references ? Object.fromEntries(Object.entries(references).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : null,
    score: score ?? true,
    tasks: tasks ?? null,
  });
}

/** A cache in memory (tests; one process's runs). */
export class MemoryReferenceCache implements ReferenceCache {
  readonly entries = new Map<string, SuiteResult>();
  get(jobKey: string): SuiteResult | undefined {
    return this.entries.get(jobKey);
  }
  put(jobKey: string, result: SuiteResult): void {
    this.entries.set(jobKey, result);
  }
}
