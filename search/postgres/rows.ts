/**
 * Validation of what is read from PostgreSQL: a row that does not have the
 * shape optevo wrote is a corrupt store, reported on one line, never cast
 * and used. (Another program, or another version, may share the database.)
 *
 * Suite results are stored as JSON text, not JSONB, and handed on as parsed
 * (validated, not rebuilt): JSONB and zod both reorder keys, and an export
 * from PostgreSQL must read exactly as one from SQLite.
 */
import { z } from 'zod';
import type { ChildRecord, SuiteResult } from '../types.js';
import { PgStoreError } from './connection.js';

const num = z.number();
const nullableNum = z.number().nullable();

export const TaskResultSchema = z
  .object({
    task: z.string(),
    lr: nullableNum,
    loss: nullableNum,
    metric: nullableNum,
    score: nullableNum,
    // NaN and infinities of a failed run were written as null (JSON).
    curve: z.array(z.number().nullable()),
    failure: z.string().optional(),
    ms: num,
    plateauAt: z.number().optional(),
    batched: z.boolean().optional(),
  })
  .passthrough();

export const SuiteResultSchema = z
  .object({
    suite: z.enum(['quick', 'standard', 'metaval']),
    fitness: nullableNum,
    tasks: z.array(TaskResultSchema),
    ms: num,
    failure: z.string().optional(),
  })
  .passthrough();

const STATUSES = ['ok', 'pruned', 'cached', 'invalid', 'failed'] as const;
const MUTATIONS = ['insert', 'delete', 'modify', 'seed', 'restart'] as const;

/** A `children` row as `pg` returns it (DOUBLE PRECISION as number, JSONB parsed). */
export const ChildRowSchema = z.object({
  id: z.number().int(),
  parent: z.number().int().nullable(),
  mutation: z.enum(MUTATIONS),
  mutation_detail: z.string(),
  source: z.string(),
  simplified: z.string(),
  hash: z.string(),
  fingerprint: z.string(),
  status: z.enum(STATUSES),
  fitness: nullableNum,
  quick: z.string().nullable(),
  standard: z.string().nullable(),
  metaval: nullableNum,
  size: z.number().int(),
  cached_from: z.number().int().nullable(),
  failure: z.string().nullable(),
  ms: num,
  at: z.string(),
});

export function parseRow<S extends z.ZodTypeAny>(schema: S, row: unknown, what: string): z.output<S> {
  const r = schema.safeParse(row);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new PgStoreError(`corrupt ${what}: ${i ? `${i.path.join('.') || '(row)'}: ${i.message}` : 'unreadable'}`);
  }
  return r.data;
}

export function childFromRow(row: unknown, where: string): ChildRecord {
  const r = parseRow(ChildRowSchema, row, where);
  return {
    id: r.id,
    parent: r.parent,
    mutation: r.mutation,
    mutationDetail: r.mutation_detail,
    source: r.source,
    simplified: r.simplified,
    hash: r.hash,
    fingerprint: r.fingerprint,
    status: r.status,
    fitness: r.fitness,
    quick: suiteFromText(r.quick, `${where}: quick`),
    standard: suiteFromText(r.standard, `${where}: standard`),
    metaval: r.metaval,
    size: r.size,
    cachedFrom: r.cached_from,
    failure: r.failure,
    ms: r.ms,
    at: r.at,
  };
}

/** A suite result stored as JSON text: parsed, checked, returned as parsed. */
export function suiteFromText(text: string | null, what: string): SuiteResult | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PgStoreError(`corrupt ${what}: not JSON`);
  }
  parseRow(SuiteResultSchema, value, what);
  return value as SuiteResult;
}

/** NaN and infinities are not JSON; a non-finite number is stored as null. */
export function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
