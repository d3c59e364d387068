/**
 * A child as a row of a table, and back. The row is what a database keeps
 * (columns of plain values, suite results as JSON); the record is the
 * search's `ChildRecord`, a union keyed on status. Reading a row checks it
 * instead of trusting it: a row that no search could have written (an unknown
 * status, a trained child without its suite result) is an error naming the
 * child and the field, not a record that fails later somewhere else.
 */
import { z } from 'zod';
import { formatZodError } from './config.js';
import { MUTATION_KINDS, type Analysis, type ChildRecord, type ChildStatus, type MutationKind, type SuiteResult } from './types.js';
import { errorMessage } from '../dsl/errors.js';

const STATUSES: readonly ChildStatus[] = ['ok', 'pruned', 'cached', 'invalid', 'failed'];

const num = z.number().nullable();
export const TaskResultSchema = z
  .object({
    task: z.string(),
    lr: num,
    loss: num,
    metric: num,
    score: num,
    // NaN and infinities of a failed run were written as null (JSON).
    curve: z.array(z.number().nullable()),
    failure: z.string().optional(),
    ms: z.number(),
    plateauAt: z.number().optional(),
    batched: z.boolean().optional(),
  })
  .passthrough();

export const SuiteResultSchema = z
  .object({
    suite: z.enum(['quick', 'standard', 'metaval']),
    fitness: num,
    tasks: z.array(TaskResultSchema),
    ms: z.number(),
    failure: z.string().optional(),
  })
  .passthrough();

/** The `children` table's columns (suite results as JSON text), as SQLite and `pg` return them: column types here, meaning in `childFromRow`. */
export const ChildRowSchema = z.object({
  id: z.number().int(),
  parent: z.number().int().nullable(),
  mutation: z.string(),
  mutation_detail: z.string(),
  source: z.string(),
  /** '' for an invalid child: the column is NOT NULL. */
  simplified: z.string(),
  hash: z.string(),
  fingerprint: z.string(),
  status: z.string(),
  fitness: num,
  quick: z.string().nullable(),
  standard: z.string().nullable(),
  metaval: num,
  size: z.number().int(),
  cached_from: z.number().int().nullable(),
  failure: z.string().nullable(),
  ms: z.number(),
  at: z.string(),
  // Absent in runs stored before re-evaluations and families (read-only opens add no column).
  reeval: z.string().nullable().optional(),
  family: z.string().nullable().optional(),
});

/** A stored suite result (JSON text), checked. */
export function suiteFromJson(text: string, what: string): SuiteResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: not JSON (${errorMessage(e)})`);
  }
  const r = SuiteResultSchema.safeParse(value);
  if (!r.success) throw new Error(formatZodError(r.error, `${what}.`));
  return r.data as SuiteResult;
}

/** The record a row holds; throws a one-line error naming the child and the field when the row is not one. */
export function childFromRow(row: unknown): ChildRecord {
  const parsed = ChildRowSchema.safeParse(row);
  if (!parsed.success) {
    const id = (row as { id?: unknown } | null)?.id;
    throw new Error(formatZodError(parsed.error, `child ${typeof id === 'number' ? id : '?'}: `));
  }
  const r = parsed.data;
  const where = `child ${r.id}`;
  const bad = (field: string, why: string) => new Error(`${where}: ${field} ${why}`);
  if (!STATUSES.includes(r.status as ChildStatus)) throw bad('status', `is '${r.status}', not one of ${STATUSES.join(', ')}`);
  if (!(MUTATION_KINDS as readonly string[]).includes(r.mutation)) throw bad('mutation', `is '${r.mutation}', not one of ${MUTATION_KINDS.join(', ')}`);
  const quick = r.quick ? suiteFromJson(r.quick, `${where} quick`) : null;
  const standard = r.standard ? suiteFromJson(r.standard, `${where} standard`) : null;
  const base = {
    id: r.id,
    parent: r.parent,
    mutation: r.mutation as MutationKind,
    mutationDetail: r.mutation_detail,
    source: r.source,
    metaval: r.metaval,
    ms: r.ms,
    at: r.at,
    ...(r.reeval ? { reeval: suiteFromJson(r.reeval, `${where} reeval`) } : {}),
    ...(r.family ? { family: r.family } : {}),
  };
  const analysis: Analysis = { simplified: r.simplified, hash: r.hash, fingerprint: r.fingerprint, size: r.size };
  const status = r.status as ChildStatus;
  switch (status) {
    case 'invalid':
      if (r.failure === null) throw bad('failure', 'is missing on an invalid child');
      return { ...base, status, fitness: null, quick: null, standard: null, cachedFrom: null, failure: r.failure };
    case 'cached':
      if (r.cached_from === null) throw bad('cached_from', 'is missing on a cached child');
      return { ...base, ...analysis, status, fitness: r.fitness, quick: null, standard: null, cachedFrom: r.cached_from, failure: r.failure };
    case 'ok':
      if (r.fitness === null) throw bad('fitness', 'is missing on an ok child');
      if (quick === null) throw bad('quick', 'is missing on an ok child');
      return { ...base, ...analysis, status, fitness: r.fitness, quick, standard, cachedFrom: null, failure: null };
    case 'pruned':
      if (r.fitness === null) throw bad('fitness', 'is missing on a pruned child');
      if (quick === null) throw bad('quick', 'is missing on a pruned child');
      return { ...base, ...analysis, status, fitness: r.fitness, quick, standard: null, cachedFrom: null, failure: null };
    case 'failed':
      if (r.failure === null) throw bad('failure', 'is missing on a failed child');
      return { ...base, ...analysis, status, fitness: null, quick, standard, cachedFrom: null, failure: r.failure };
    default: {
      const never: never = status;
      throw bad('status', String(never));
    }
  }
}

/** The analysis columns of a record: an invalid child has none, and the table's NOT NULL columns get '' and 0. */
export function analysisColumns(c: ChildRecord): Analysis {
  return c.status === 'invalid' ? { simplified: '', hash: '', fingerprint: '', size: 0 } : c;
}
