/**
 * A suite's fitness from its tasks, in one place: the evaluator computes it
 * for a whole suite, and the search for a suite it ran one task at a time
 * (meta-validation and reference runs, split so that no single job holds a
 * worker for a whole heavy suite).
 */
import type { SuiteName, SuiteResult } from './types.js';

/** The mean of the scored tasks' scores; null when no task finished or none was scored. */
export function suiteFitness(tasks: readonly { loss: number | null; score: number | null }[]): number | null {
  const scored = tasks.filter((t) => t.score !== null);
  const finished = tasks.filter((t) => t.loss !== null);
  if (finished.length === 0 || scored.length === 0) return null;
  return scored.reduce((s, t) => s + t.score!, 0) / scored.length;
}

/** Why a suite failed as a whole: every task failed (none finished); undefined otherwise. */
export function suiteFailure(tasks: readonly { loss: number | null; failure?: string }[]): string | undefined {
  if (tasks.length === 0 || tasks.some((t) => t.loss !== null)) return undefined;
  return `failed every task: ${tasks[0]!.failure ?? 'unknown'}`;
}

/** One suite's result from the results of its tasks run as separate jobs, in the suite's order. */
export function mergeParts(suite: SuiteName, parts: readonly SuiteResult[]): SuiteResult {
  const tasks = parts.flatMap((p) => p.tasks);
  const failure = suiteFailure(tasks);
  const drift = parts.find((p) => p.drift !== undefined)?.drift;
  return {
    suite,
    fitness: failure ? null : suiteFitness(tasks),
    tasks,
    ms: parts.reduce((s, p) => s + p.ms, 0),
    ...(failure ? { failure } : {}),
    ...(drift !== undefined ? { drift } : {}),
  };
}
