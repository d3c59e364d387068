/**
 * `optevo search` settings: flags, a `--config FILE` (JSON, every flag by its
 * camelCase name), and defaults, in that order of precedence, validated into
 * the run's SearchConfig and this machine's MachineConfig. Every problem is a
 * one-line UserError naming the flag or the file's key.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import {
  DEFAULTS,
  UNLIMITED_CHILDREN,
  MachineConfigSchema,
  SearchConfigSchema,
  formatZodError,
  type MachineConfig,
  type SearchConfig,
} from '../../search/config.js';
import { parseDuration } from '../../search/duration.js';
import { UserError } from './errors.js';
import { readText } from './program-file.js';

/** What a config file may hold: every flag of `optevo search`. */
export const SearchFileSchema = z
  .object({
    population: z.number(),
    tournament: z.number(),
    budget: z.number(),
    time: z.union([z.string(), z.number()]),
    metavalShare: z.number(),
    seeds: z.union([z.array(z.string()), z.string()]),
    restartAfter: z.number(),
    mutationWeights: z.union([z.record(z.string(), z.number()), z.string()]),
    maxStatements: z.number(),
    stateSlots: z.number(),
    hurdle: z.number(),
    suite: z.string(),
    metavalEvery: z.number(),
    metavalTop: z.number(),
    batch: z.number(),
    ahead: z.number(),
    lrs: z.union([z.array(z.number()), z.string()]),
    steps: z.number(),
    seed: z.number(),
    evalSeed: z.number(),
    tasksModule: z.string(),
    workers: z.number(),
    evalTimeout: z.number(),
    backend: z.string(),
    runDir: z.string(),
    name: z.string(),
    tui: z.boolean(),
  })
  .partial()
  .strict();

export type SearchFile = z.infer<typeof SearchFileSchema>;

/** Flags as commander gives them: strings, or booleans for switches. */
export interface SearchFlags {
  population?: string;
  tournament?: string;
  budget?: string;
  time?: string;
  metavalShare?: string;
  seeds?: string;
  restartAfter?: string;
  mutationWeights?: string;
  maxStatements?: string;
  stateSlots?: string;
  hurdle?: string;
  suite?: string;
  metavalEvery?: string;
  metavalTop?: string;
  batch?: string;
  ahead?: string;
  lrs?: string;
  steps?: string;
  seed?: string;
  evalSeed?: string;
  tasksModule?: string;
  workers?: string;
  evalTimeout?: string;
  backend?: string;
  runDir?: string;
  name?: string;
  tui?: boolean;
  config?: string;
  resume?: string;
}

/** camelCase key -> --kebab-case flag, for messages. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

const SEARCH_KEYS = [
  'population',
  'tournament',
  'budget',
  'time',
  'metavalShare',
  'seeds',
  'restartAfter',
  'mutationWeights',
  'maxStatements',
  'stateSlots',
  'hurdle',
  'suite',
  'metavalEvery',
  'metavalTop',
  'batch',
  'ahead',
  'lrs',
  'steps',
  'seed',
  'evalSeed',
  'tasksModule',
] as const;
const MACHINE_KEYS = ['workers', 'evalTimeout', 'backend'] as const;

export interface SearchPlan {
  /** Settings of the run (new runs only; a resumed run uses its stored ones). */
  config: SearchConfig;
  machine: MachineConfig;
  runDir: string;
  name: string | undefined;
  tui: boolean;
  /** The keys given explicitly (flags or file), to refuse changing a resumed run. */
  given: Set<string>;
}

function num(key: string, raw: unknown, from: string): number {
  if (typeof raw === 'number') return raw;
  const s = String(raw).trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) throw new UserError(`${from}${from === '' ? flagName(key) : key}: '${s}' is not a number`);
  return n;
}

function list(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String);
  return String(raw)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function weights(raw: unknown, where: string): unknown {
  if (typeof raw !== 'string') return raw;
  const out: Record<string, number> = {};
  for (const part of list(raw)) {
    const m = /^([a-z]+)\s*[=:]\s*(.+)$/.exec(part);
    if (!m) throw new UserError(`${where}: expected insert=W,delete=W,modify=W, got '${part}'`);
    const n = Number(m[2]);
    if (!Number.isFinite(n)) throw new UserError(`${where}: '${m[2]}' is not a number`);
    out[m[1]!] = n;
  }
  return out;
}

/** Turns raw values (strings from flags, JSON values from a file) into typed ones. */
function coerce(key: string, raw: unknown, from: string): unknown {
  const where = from === '' ? flagName(key) : `${from}${key}`;
  switch (key) {
    case 'seeds':
      return list(raw);
    case 'lrs':
      return list(raw).map((s) => num(key, s, from));
    case 'mutationWeights':
      return weights(raw, where);
    case 'tasksModule':
      return path.resolve(String(raw));
    case 'suite':
    case 'backend':
    case 'runDir':
    case 'name':
      return String(raw);
    case 'tui':
      return raw;
    case 'time':
      try {
        // A number in a config file is seconds, as a bare number on the command line.
        return parseDuration(String(raw), where);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
    default:
      return num(key, raw, from);
  }
}

export function readConfigFile(file: string): SearchFile {
  const text = readText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
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

/** Assembles and validates the settings of `optevo search`. */
export function planSearch(flags: SearchFlags, opts: { cores?: number; randomSeed?: () => number } = {}): SearchPlan {
  const file: SearchFile = flags.config ? readConfigFile(flags.config) : {};
  const raw: Record<string, unknown> = {};
  const given = new Set<string>();
  const sources = new Map<string, 'flag' | 'file'>();
  const fileLabel = flags.config ? `${flags.config}: ` : '';
  for (const [k, v] of Object.entries(file)) {
    if (v === undefined) continue;
    raw[k] = coerce(k, v, fileLabel);
    given.add(k);
    sources.set(k, 'file');
  }
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || k === 'config' || k === 'resume') continue;
    if (k === 'tui' && v === true) continue; // commander's default for --no-tui
    raw[k] = coerce(k, v, '');
    given.add(k);
    sources.set(k, 'flag');
  }

  const cores = opts.cores ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const seed = (raw['seed'] as number | undefined) ?? (opts.randomSeed ?? (() => randomInt(0, 2 ** 31)))();
  const search = {
    seed,
    // With --time alone, the children's budget does not bind.
    budget: raw['budget'] ?? (raw['time'] !== undefined ? UNLIMITED_CHILDREN : DEFAULTS.budget),
    ...(raw['time'] !== undefined ? { timeMs: raw['time'] } : {}),
    ...(raw['metavalShare'] !== undefined ? { metavalShare: raw['metavalShare'] } : {}),
    population: raw['population'] ?? DEFAULTS.population,
    tournament: raw['tournament'] ?? Math.min(DEFAULTS.tournament, (raw['population'] as number | undefined) ?? DEFAULTS.population),
    seeds: raw['seeds'] ?? [...DEFAULTS.seeds],
    restartAfter: raw['restartAfter'] ?? DEFAULTS.restartAfter,
    mutationWeights: raw['mutationWeights'] ?? { ...DEFAULTS.mutationWeights },
    maxStatements: raw['maxStatements'] ?? DEFAULTS.maxStatements,
    stateSlots: raw['stateSlots'] ?? DEFAULTS.stateSlots,
    hurdle: raw['hurdle'] ?? DEFAULTS.hurdle,
    suite: raw['suite'] ?? DEFAULTS.suite,
    metavalEvery: raw['metavalEvery'] ?? DEFAULTS.metavalEvery,
    metavalTop: raw['metavalTop'] ?? DEFAULTS.metavalTop,
    batch: raw['batch'] ?? DEFAULTS.batch,
    ahead: raw['ahead'] ?? DEFAULTS.ahead,
    lrs: raw['lrs'] ?? [...DEFAULTS.lrs],
    ...(raw['steps'] !== undefined ? { steps: raw['steps'] } : {}),
    evalSeed: raw['evalSeed'] ?? seed,
    ...(raw['tasksModule'] !== undefined ? { tasksModule: raw['tasksModule'] } : {}),
  };
  const sr = SearchConfigSchema.safeParse(search);
  if (!sr.success) throw new UserError(describeIssues(sr.error, sources, fileLabel));
  const mr = MachineConfigSchema.safeParse({
    workers: raw['workers'] ?? Math.max(1, cores),
    evalTimeout: raw['evalTimeout'] ?? DEFAULTS.evalTimeout,
    backend: raw['backend'] ?? DEFAULTS.backend,
  });
  if (!mr.success) throw new UserError(describeIssues(mr.error, sources, fileLabel));
  const name = raw['name'] as string | undefined;
  if (name !== undefined && (name === '' || /[/\\]/.test(name) || name === '.' || name === '..'))
    throw new UserError(`--name: '${name}' is not a plain name (use --run-dir for the folder)`);
  return {
    config: sr.data,
    machine: mr.data,
    runDir: (raw['runDir'] as string | undefined) ?? 'runs',
    name,
    tui: flags.tui !== false && file.tui !== false,
    given,
  };
}

function describeIssues(err: z.ZodError, sources: Map<string, 'flag' | 'file'>, fileLabel: string): string {
  const i = err.issues[0]!;
  const key = String(i.path[0] ?? '');
  const sub = i.path.slice(1).join('.');
  const where = key === '' ? 'settings' : sources.get(key) === 'file' ? `${fileLabel}${key}` : flagName(key);
  let msg = i.message;
  if (i.code === 'too_small' && 'minimum' in i) msg = `must be at least ${String(i.minimum)}`;
  else if (i.code === 'too_big' && 'maximum' in i) msg = `must be at most ${String(i.maximum)}`;
  else if (i.code === 'invalid_type' && /int/.test(i.message)) msg = 'must be a whole number';
  else if (i.code === 'invalid_value' && 'values' in i) msg = `must be one of ${(i.values as unknown[]).join(', ')}`;
  else if (i.code === 'unrecognized_keys') msg = `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
  return `${where}${sub ? `.${sub}` : ''}: ${msg}`;
}

export { SEARCH_KEYS, MACHINE_KEYS };
