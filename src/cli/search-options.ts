/**
 * `optevo search` settings: flags, a `--config FILE` (JSON, every flag by its
 * camelCase name), and defaults, in that order of precedence, validated into
 * the run's SearchConfig and this machine's ExecutorConfig. The settings are
 * the rows of one table (search/settings.ts): the run's (search/config.ts),
 * the executor's (src/executor-settings.ts) and this command's own below.
 * Every problem is a one-line UserError naming the flag or the file's key.
 */
import * as os from 'node:os';
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { RUN_SETTINGS, SearchConfigSchema, formatZodError, type SearchConfig } from '../../search/config.js';
import { SettingError, fileSchemaOf, flagName, read, settle, type Setting } from '../../search/settings.js';
import { EXECUTOR_SETTINGS, ExecutorConfigSchema, type ExecutorConfig } from '../executor-settings.js';
import { UserError } from './errors.js';
import { readText } from './program-file.js';
import { errorMessage } from '../../dsl/errors.js';

export { flagName };

const command = <const S extends Omit<Setting, 'scope'>>(row: S) => ({ ...row, scope: 'command' as const });

/** This command's own settings: where the run goes and how it is watched. */
export const COMMAND_SETTINGS = [
  command({ key: 'runDir', arg: '<dir>', help: 'folder of runs', read: read.text, schema: z.string().min(1), default: { value: 'runs' } }),
  command({ key: 'name', arg: '<name>', help: 'name of the run; the run is at DIR/NAME', read: read.text, schema: z.string(), default: { value: undefined, text: 'generated' } }),
  command({ key: 'tui', help: 'plain progress lines instead of the dashboard', read: read.switch, schema: z.boolean(), default: { value: true }, negatable: true }),
] as const satisfies readonly Setting[];

/** Every setting a config file may hold and a flag may give. */
export const SEARCH_SETTINGS: readonly Setting[] = [...RUN_SETTINGS, ...EXECUTOR_SETTINGS, ...COMMAND_SETTINGS];

/** What a config file may hold: every setting of `optevo search`. */
export const SearchFileSchema = fileSchemaOf(SEARCH_SETTINGS);
export type SearchFile = Record<string, unknown>;

type SettingKey = (typeof RUN_SETTINGS)[number]['key'] | (typeof EXECUTOR_SETTINGS)[number]['key'] | 'runDir' | 'name';

/** Flags as commander gives them: strings, or booleans for switches. */
export type SearchFlags = { [K in SettingKey]?: string } & { tui?: boolean; config?: string; resume?: string };

/** Keys of the run's stored settings and of the executor's. */
export const SEARCH_KEYS: readonly string[] = RUN_SETTINGS.map((r) => r.key);
export const MACHINE_KEYS: readonly string[] = EXECUTOR_SETTINGS.map((r) => r.key);

const ROW = new Map(SEARCH_SETTINGS.map((r) => [r.key, r]));

export interface SearchPlan {
  /** Settings of the run (new runs only; a resumed run uses its stored ones). */
  config: SearchConfig;
  machine: ExecutorConfig;
  runDir: string;
  name: string | undefined;
  tui: boolean;
  /** The keys given explicitly (flags or file), to refuse changing a resumed run. */
  given: Set<string>;
}

export function readConfigFile(file: string): SearchFile {
  const text = readText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${errorMessage(e).split('\n')[0]})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new UserError(`${file}: expected a JSON object of settings`);
  const r = SearchFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys')
      throw new UserError(`${file}: unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`);
    throw new UserError(`${file}: ${formatZodError(r.error)}`);
  }
  return r.data;
}

/** A raw value (a flag's string, a file's JSON value) read by its row; a mistake is a UserError naming where. */
function readSetting(key: string, raw: unknown, where: string): unknown {
  const row = ROW.get(key);
  if (!row) throw new UserError(`${where}: unknown setting`);
  try {
    return row.read.read(raw, where);
  } catch (e) {
    if (e instanceof SettingError) throw new UserError(e.message);
    throw e;
  }
}

/** Assembles and validates the settings of `optevo search`. */
export function planSearch(flags: SearchFlags, opts: { cores?: number; randomSeed?: () => number } = {}): SearchPlan {
  const file: SearchFile = flags.config ? readConfigFile(flags.config) : {};
  const raw: Record<string, unknown> = {};
  const given = new Set<string>();
  const sources = new Map<string, 'flag' | 'file'>();
  const fileLabel = flags.config ? `${flags.config}: ` : '';
  for (const [k, v] of Object.entries(file)) {
    if (v === undefined) continue;
    raw[k] = readSetting(k, v, `${fileLabel}${k}`);
    given.add(k);
    sources.set(k, 'file');
  }
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || k === 'config' || k === 'resume') continue;
    if (k === 'tui' && v === true) continue; // commander's default for --no-tui
    raw[k] = readSetting(k, v, flagName(k));
    given.add(k);
    sources.set(k, 'flag');
  }

  const ctx = {
    cores: opts.cores ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length),
    randomSeed: opts.randomSeed ?? (() => randomInt(0, 2 ** 31)),
  };
  const sr = SearchConfigSchema.safeParse(settle(RUN_SETTINGS, raw, ctx));
  if (!sr.success) throw new UserError(describeIssues(sr.error, sources, fileLabel));
  const mr = ExecutorConfigSchema.safeParse(settle(EXECUTOR_SETTINGS, raw, ctx));
  if (!mr.success) throw new UserError(describeIssues(mr.error, sources, fileLabel));
  const name = raw['name'] as string | undefined;
  if (name !== undefined && (name === '' || /[/\\]/.test(name) || name === '.' || name === '..'))
    throw new UserError(`--name: '${name}' is not a plain name (use --run-dir for the folder)`);
  return {
    config: sr.data,
    machine: mr.data as ExecutorConfig,
    runDir: (raw['runDir'] as string | undefined) ?? 'runs',
    name,
    tui: flags.tui !== false && file['tui'] !== false,
    given,
  };
}

function describeIssues(err: z.ZodError, sources: Map<string, 'flag' | 'file'>, fileLabel: string): string {
  const i = err.issues[0]!;
  const key = String(i.path[0] ?? '');
  const sub = i.path.slice(1).join('.');
  const where = key === '' ? 'settings' : sources.get(key) === 'file' ? `${fileLabel}${key}` : flagName(key);
  let msg = i.message;
  if (i.code === 'too_small' && 'minimum' in i) msg = `must be ${'inclusive' in i && i.inclusive === false ? 'greater than' : 'at least'} ${String(i.minimum)}`;
  else if (i.code === 'too_big' && 'maximum' in i) msg = `must be at most ${String(i.maximum)}`;
  else if (i.code === 'invalid_type' && /int/.test(i.message)) msg = 'must be a whole number';
  else if (i.code === 'invalid_value' && 'values' in i) msg = `must be one of ${(i.values as unknown[]).join(', ')}`;
  else if (i.code === 'unrecognized_keys') msg = `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
  return `${where}${sub ? `.${sub}` : ''}: ${msg}`;
}
