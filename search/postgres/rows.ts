/**
 * Validation of what is read from PostgreSQL: a row that does not have the
 * shape optevo wrote is a corrupt store, reported on one line, never cast
 * and used. (Another program, or another version, may share the database.)
 *
 * Suite results are stored as JSON text, not JSONB (which reorders keys),
 * and read by the same code as SQLite's (child-row.ts): an export from
 * PostgreSQL reads exactly as one from SQLite.
 */
import { z } from 'zod';
import { childFromRow, suiteFromJson } from '../child-row.js';
import type { ChildRecord, SuiteResult } from '../types.js';
import { PgStoreError } from './connection.js';
import { errorMessage } from '../../dsl/errors.js';

export function parseRow<S extends z.ZodTypeAny>(schema: S, row: unknown, what: string): z.output<S> {
  const r = schema.safeParse(row);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new PgStoreError(`corrupt ${what}: ${i ? `${i.path.join('.') || '(row)'}: ${i.message}` : 'unreadable'}`);
  }
  return r.data;
}

/** A stored child, checked as the SQLite store checks it (the same reading, so both stores export the same text). */
export function childFromPgRow(row: unknown, where: string): ChildRecord {
  try {
    return childFromRow(row);
  } catch (e) {
    throw new PgStoreError(`corrupt ${where}: ${errorMessage(e)}`);
  }
}

/** A stored suite result (JSON text), checked. */
export function suiteFromText(text: string | null, what: string): SuiteResult | null {
  if (text === null) return null;
  try {
    return suiteFromJson(text, what);
  } catch (e) {
    throw new PgStoreError(`corrupt ${errorMessage(e)}`);
  }
}

/** NaN and infinities are not JSON; a non-finite number is stored as null. */
export function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
