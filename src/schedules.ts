/**
 * Learning-rate schedules as values: each is a function of the step that
 * gives the factor applied to `learningRate`, and carries its `config`, a
 * plain object from which `schedules.fromConfig` rebuilds it. So an optimizer
 * with a schedule round-trips through `getConfig` / `fromConfig` and a saved
 * model. The shapes follow optax's schedules (`linear_schedule`,
 * `cosine_decay_schedule`, `exponential_decay`, `join_schedules`,
 * `warmup_cosine_decay_schedule`) and PyTorch's `StepLR`.
 *
 * A schedule sees the optimizer's 1-based step and counts from
 * `count = step - 1`, the number of updates made before this one, as optax
 * does: a warm-up from 0 gives factor 0 to the first update.
 */

export type ScheduleConfig =
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'linear'; readonly from: number; readonly to: number; readonly steps: number }
  | { readonly kind: 'cosine'; readonly steps: number; readonly min: number }
  | { readonly kind: 'step'; readonly every: number; readonly factor: number }
  | { readonly kind: 'exponential'; readonly rate: number; readonly every: number; readonly staircase: boolean }
  | { readonly kind: 'join'; readonly parts: readonly ScheduleConfig[]; readonly boundaries: readonly number[] };

/** A learning-rate factor by 1-based step, with the config that rebuilds it. */
export interface ScheduleValue {
  (step: number): number;
  readonly config: ScheduleConfig;
}

const KINDS = ['constant', 'linear', 'cosine', 'step', 'exponential', 'join'] as const;

function finite(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`schedules.${where}: '${name}' must be a finite number, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`schedules.${where}: '${name}' must be a whole number of steps >= 1, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

/** The factor at a 0-based count of updates made. */
function factorAt(c: ScheduleConfig, count: number): number {
  switch (c.kind) {
    case 'constant':
      return c.value;
    case 'linear':
      return c.from + (c.to - c.from) * Math.min(count / c.steps, 1);
    case 'cosine': {
      const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(count, c.steps)) / c.steps));
      return (1 - c.min) * cos + c.min;
    }
    case 'step':
      return c.factor ** Math.floor(count / c.every);
    case 'exponential': {
      const p = count / c.every;
      return c.rate ** (c.staircase ? Math.floor(p) : p);
    }
    case 'join': {
      let i = 0;
      while (i < c.boundaries.length && count >= c.boundaries[i]!) i++;
      return factorAt(c.parts[i]!, i === 0 ? count : count - c.boundaries[i - 1]!);
    }
    default: {
      const never: never = c;
      throw new Error(`unknown schedule ${JSON.stringify(never)}`);
    }
  }
}

function value(config: ScheduleConfig): ScheduleValue {
  const f = (step: number) => factorAt(config, step - 1);
  return Object.assign(f, { config: Object.freeze(config) });
}

/** Rebuilds a schedule from its `config`, checking every field; throws a one-line error naming the bad one. */
function fromConfig(config: unknown): ScheduleValue {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error(`schedules.fromConfig: a schedule config must be an object with a 'kind'`);
  const c = config as Record<string, unknown>;
  switch (c['kind']) {
    case 'constant':
      return constant(c['value'] as number);
    case 'linear':
      return linear({ from: c['from'] as number, to: c['to'] as number, steps: c['steps'] as number });
    case 'cosine':
      return cosine({ steps: c['steps'] as number, min: c['min'] as number });
    case 'step':
      return step({ every: c['every'] as number, factor: c['factor'] as number });
    case 'exponential':
      return exponential({ rate: c['rate'] as number, every: c['every'] as number, staircase: c['staircase'] as boolean });
    case 'join': {
      const parts = c['parts'];
      if (!Array.isArray(parts)) throw new Error(`schedules.fromConfig: 'join' needs 'parts', a list of schedule configs`);
      return join(parts.map(fromConfig), c['boundaries'] as number[]);
    }
    default:
      throw new Error(`schedules.fromConfig: unknown kind ${JSON.stringify(c['kind'])} (kinds: ${KINDS.join(', ')})`);
  }
}

/** A fixed factor (1 by default: the base learning rate throughout). */
function constant(v = 1): ScheduleValue {
  return value({ kind: 'constant', value: finite('constant', 'value', v) });
}

/** From `from` to `to` linearly over `steps` updates, then `to` (optax's linear_schedule). */
function linear(o: { from: number; to: number; steps: number }): ScheduleValue {
  return value({ kind: 'linear', from: finite('linear', 'from', o.from), to: finite('linear', 'to', o.to), steps: positiveInt('linear', 'steps', o.steps) });
}

/** Linear warm-up from `from` (default 0) to 1 over `steps` updates, then 1. */
function linearWarmup(o: { steps: number; from?: number }): ScheduleValue {
  return linear({ from: o.from ?? 0, to: 1, steps: o.steps });
}

/** Cosine decay from 1 to `min` (default 0) over `steps` updates, then `min` (optax's cosine_decay_schedule, alpha = min). */
function cosine(o: { steps: number; min?: number }): ScheduleValue {
  return value({ kind: 'cosine', steps: positiveInt('cosine', 'steps', o.steps), min: finite('cosine', 'min', o.min ?? 0) });
}

/** Times `factor` (default 0.1) every `every` updates (PyTorch's StepLR). */
function step(o: { every: number; factor?: number }): ScheduleValue {
  return value({ kind: 'step', every: positiveInt('step', 'every', o.every), factor: finite('step', 'factor', o.factor ?? 0.1) });
}

/** rate ** (count / every), or of its floor when `staircase` (optax's exponential_decay). */
function exponential(o: { rate: number; every?: number; staircase?: boolean }): ScheduleValue {
  if (o.staircase !== undefined && typeof o.staircase !== 'boolean') throw new Error(`schedules.exponential: 'staircase' must be true or false`);
  return value({ kind: 'exponential', rate: finite('exponential', 'rate', o.rate), every: positiveInt('exponential', 'every', o.every ?? 1), staircase: o.staircase ?? false });
}

/**
 * One schedule after another (optax's join_schedules): `parts[i + 1]` takes
 * over at update `boundaries[i]` and counts from 0 there.
 */
function join(parts: readonly ScheduleValue[], boundaries: readonly number[]): ScheduleValue {
  if (!Array.isArray(parts) || parts.length === 0) throw new Error(`schedules.join: 'parts' must be a non-empty list of schedules`);
  for (const p of parts)
    if (typeof p !== 'function' || !('config' in p)) throw new Error(`schedules.join: every part must be a schedule from 'schedules' (a plain function has no config)`);
  if (!Array.isArray(boundaries) || boundaries.length !== parts.length - 1)
    throw new Error(`schedules.join: ${parts.length} parts need ${parts.length - 1} boundaries, got ${Array.isArray(boundaries) ? boundaries.length : 'none'}`);
  boundaries.forEach((b, i) => {
    positiveInt('join', `boundaries[${i}]`, b);
    if (i > 0 && b <= boundaries[i - 1]!) throw new Error(`schedules.join: boundaries must increase, got ${boundaries.join(', ')}`);
  });
  return value({ kind: 'join', parts: parts.map((p) => p.config), boundaries: [...boundaries] });
}

/**
 * Linear warm-up over `warmupSteps`, then cosine decay to `min` by update
 * `totalSteps` (optax's warmup_cosine_decay_schedule with peak 1).
 */
function warmupCosine(o: { warmupSteps: number; totalSteps: number; min?: number; from?: number }): ScheduleValue {
  positiveInt('warmupCosine', 'warmupSteps', o.warmupSteps);
  positiveInt('warmupCosine', 'totalSteps', o.totalSteps);
  if (o.totalSteps <= o.warmupSteps) throw new Error(`schedules.warmupCosine: 'totalSteps' (${o.totalSteps}) must exceed 'warmupSteps' (${o.warmupSteps})`);
  const cos = o.min === undefined ? { steps: o.totalSteps - o.warmupSteps } : { steps: o.totalSteps - o.warmupSteps, min: o.min };
  return join([linearWarmup(o.from === undefined ? { steps: o.warmupSteps } : { steps: o.warmupSteps, from: o.from }), cosine(cos)], [o.warmupSteps]);
}

/** `schedules.cosine({ steps: 1000 })` and the rest: each a `ScheduleValue`. */
export const schedules = Object.freeze({ constant, linear, linearWarmup, cosine, step, exponential, join, warmupCosine, fromConfig });

/** Whether a schedule function carries a config (came from `schedules`). */
export function isScheduleValue(f: unknown): f is ScheduleValue {
  return typeof f === 'function' && typeof (f as { config?: unknown }).config === 'object' && (f as { config?: unknown }).config !== null;
}
