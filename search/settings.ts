/**
 * Settings as one table. A row says everything about one setting: its key
 * (camelCase, as in a config file and in code), the flag's argument, its help,
 * how a raw value is read (a flag's string or a config file's JSON value), its
 * zod schema, its default and its scope. The zod schemas, the defaults, the
 * config file's schema, the commander options and the help text are all made
 * from the rows, so adding a setting is adding a row.
 *
 * Scopes: `run` settings decide what a search computes and are stored with the
 * run (fixed on resume, except the budget); `machine` settings change neither
 * children nor scores (workers, backend, time-out); `command` settings belong
 * to one command's invocation (where runs go, the dashboard, ...).
 */
import * as path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { errorMessage } from '../dsl/errors.js';

export type Scope = 'run' | 'machine' | 'command';

/** What surrounds a setting's default: this machine and the run's random seed. */
export interface DefaultContext {
  cores: number;
  randomSeed: () => number;
  /** Settings already settled, in table order. */
  values: Readonly<Record<string, unknown>>;
}

/** A default: a value, or one computed from other settings or the machine, with the words the help shows. */
export type Default = { value: unknown; text?: string } | { derive: (c: DefaultContext) => unknown; text: string };

/** How a raw value becomes a typed one; `file` is what a config file may hold for it. */
export interface Reader {
  file: z.ZodType;
  read(raw: unknown, where: string): unknown;
}

export interface Setting {
  key: string;
  /** The flag's argument (`<n>`); absent for a switch. */
  arg?: string;
  help: string;
  read: Reader;
  /** The validated value (a stored run's copy is checked with it too). */
  schema: z.ZodType;
  default?: Default;
  scope: Scope;
  /** A switch that is on unless `--no-KEY` is given. */
  negatable?: boolean;
  /** A flag that may be given more than once: its values are collected in a list. */
  repeatable?: boolean;
}

/** A mistake in a setting's value, named by flag or file key. */
export class SettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

/** camelCase key -> --kebab-case flag, for messages. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function number(raw: unknown, where: string): number {
  if (typeof raw === 'number') return raw;
  const s = String(raw).trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) throw new SettingError(`${where}: '${s}' is not a number`);
  return n;
}

function list(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String);
  return String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The readers rows use. */
export const read = {
  /** `30m`, `2h`, `1h30m`, or seconds (search/duration.ts): milliseconds. */
  duration: {
    file: z.union([z.string(), z.number()]),
    read: (raw, where) => {
      try {
        return parseDuration(String(raw), where);
      } catch (e) {
        throw new SettingError(errorMessage(e));
      }
    },
  } satisfies Reader,
  number: { file: z.number(), read: number } satisfies Reader,
  text: { file: z.string(), read: (raw) => String(raw) } satisfies Reader,
  /** A file path, made absolute (so a stored run finds it from anywhere). */
  path: { file: z.string(), read: (raw) => path.resolve(String(raw)) } satisfies Reader,
  switch: { file: z.boolean(), read: (raw) => raw } satisfies Reader,
  /** `a,b,c` or a JSON array. */
  list: { file: z.union([z.array(z.string()), z.string()]), read: (raw) => list(raw) } satisfies Reader,
  /** `0.1,1,10` or a JSON array of numbers. */
  numbers: {
    file: z.union([z.array(z.number()), z.string()]),
    read: (raw, where) => {
      const xs = list(raw).map((s) => number(s, where));
      // An empty string is almost always a shell variable that was not set: say so rather than take the default.
      if (xs.length === 0 && typeof raw === 'string') throw new SettingError(`${where}: give at least one number (or leave the setting out for its default)`);
      return xs;
    },
  } satisfies Reader,
  /** `a=1,b=2` or a JSON object of numbers. */
  weights: {
    file: z.union([z.record(z.string(), z.number()), z.string()]),
    read: (raw, where) => {
      if (typeof raw !== 'string') return raw;
      const out: Record<string, number> = {};
      for (const part of list(raw)) {
        const m = /^([a-z]+)\s*[=:]\s*(.+)$/.exec(part);
        if (!m) throw new SettingError(`${where}: expected insert=W,delete=W,modify=W, got '${part}'`);
        const n = Number(m[2]);
        if (!Number.isFinite(n)) throw new SettingError(`${where}: '${m[2]}' is not a number`);
        out[m[1]!] = n;
      }
      return out;
    },
  } satisfies Reader,
};

/** The zod object of these rows' values (each row's schema, under its key). */
export function schemaOf<const R extends readonly Setting[]>(rows: R) {
  type Shape = { [S in R[number] as S['key']]: S['schema'] };
  return z.object(Object.fromEntries(rows.map((r) => [r.key, r.schema])) as Shape).strict();
}

/** What a config file may hold for these rows: every key optional, nothing else. */
export function fileSchemaOf(rows: readonly Setting[]) {
  return z.object(Object.fromEntries(rows.map((r) => [r.key, r.read.file]))).partial().strict();
}

/** The constant defaults of these rows, by key. */
export function defaultsOf(rows: readonly Setting[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of rows) if (r.default && 'value' in r.default) out[r.key] = r.default.value;
  return out;
}

/** The help line: the row's help and, where there is one, its default. */
export function helpOf(r: Setting): string {
  const d = r.default;
  if (!d || r.negatable) return r.help;
  const text = d.text ?? ('value' in d ? (Array.isArray(d.value) ? d.value.join(',') : typeof d.value === 'object' ? JSON.stringify(d.value) : String(d.value)) : '');
  return `${r.help} (default ${text})`;
}

/** The commander flag of a row: `--metaval-every <n>`, `--no-tui`. */
export function flagOf(r: Setting): string {
  if (r.negatable) return `--no-${flagName(r.key).slice(2)}`;
  return r.arg ? `${flagName(r.key)} ${r.arg}` : flagName(r.key);
}

/**
 * Settles every row: the given value (read, and checked by the caller's
 * schema), else the default, in table order (a derived default sees the rows
 * above it). Rows without a value or default are left out.
 */
export function settle(rows: readonly Setting[], given: Readonly<Record<string, unknown>>, ctx: Omit<DefaultContext, 'values'>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const r of rows) {
    if (given[r.key] !== undefined) values[r.key] = given[r.key];
    else if (r.default && 'value' in r.default) values[r.key] = structuredClone(r.default.value);
    else if (r.default) values[r.key] = r.default.derive({ ...ctx, values });
  }
  return values;
}

/**
 * A command's options, read and settled by its rows and checked with their
 * schemas: the values as the rows' schemas type them. A mistake is a
 * `SettingError` naming the flag.
 */
export function readSettings<const R extends readonly Setting[]>(
  rows: R,
  given: Readonly<Record<string, unknown>>,
  ctx: Omit<DefaultContext, 'values'> = { cores: 1, randomSeed: () => 0 },
): z.infer<ReturnType<typeof schemaOf<R>>> {
  const raw: Record<string, unknown> = {};
  for (const r of rows) {
    const v = given[r.key];
    if (v === undefined) continue;
    raw[r.key] = r.read.read(v, flagName(r.key));
  }
  const parsed = schemaOf(rows).safeParse(settle(rows, raw, ctx));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new SettingError(`${flagName(String(i.path[0] ?? ''))}: ${i.message}`);
  }
  return parsed.data as z.infer<ReturnType<typeof schemaOf<R>>>;
}
