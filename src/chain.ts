/**
 * Composing an optimizer: `chain(...gradientSteps, rule, ...updateSteps)`,
 * read left to right as optax's `chain` is. Steps before the rule transform
 * the gradients, in order (clip, accumulate, skip non-finite); the rule is any
 * `tf.Optimizer` (an optevo optimizer, or one of tf.train's); steps after it
 * add to the rule's update (decoupled weight decay). The result is a
 * `tf.Optimizer` that serialises (`getConfig`/`fromConfig`, model.save), saves
 * its state with `getWeights`, and leaks no tensor per step.
 *
 *   optax.chain(clip_by_global_norm(1.0), scale_by_adam(), add_decayed_weights(1e-2, mask), scale_by_learning_rate(lr))
 *   chain(clipByGlobalNorm(1.0), optimizers.adam({ learningRate: lr }), weightDecay(1e-2))
 *
 * The steps are plain, serialisable values; their state lives in the chain.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fromBase64, toBase64 } from './base64.js';
import type { NamedTensor } from './optimizer.js';

/** Scale all gradients together so that their global L2 norm is at most `maxNorm` (optax's clip_by_global_norm). */
export interface ClipByGlobalNorm {
  readonly kind: 'clipByGlobalNorm';
  readonly maxNorm: number;
}
/** Clamp every gradient value to [-limit, limit] (optax's clip, PyTorch's clip_grad_value_). */
export interface ClipByValue {
  readonly kind: 'clipByValue';
  readonly limit: number;
}
/** Sum the gradients of `steps` calls and apply their mean once (optax's MultiSteps). */
export interface Accumulate {
  readonly kind: 'accumulate';
  readonly steps: number;
}
/** Drop a whole step whose gradients hold a NaN or an infinity (optax's apply_if_finite). */
export interface SkipNonFinite {
  readonly kind: 'skipNonFinite';
}
/**
 * Decoupled weight decay: add `rate * lr * w` to the rule's update, with the
 * rule's (scheduled) learning rate and the weights before the step, as
 * PyTorch's AdamW and optax's add_decayed_weights do. Variables whose name
 * matches `skip` are not decayed.
 */
export interface WeightDecay {
  readonly kind: 'weightDecay';
  readonly rate: number;
  /** A regular expression's source and flags, or a list of variable names. */
  readonly skip: { readonly pattern: string; readonly flags: string } | readonly string[];
}

export type GradientStep = ClipByGlobalNorm | ClipByValue | Accumulate | SkipNonFinite;
export type UpdateStep = WeightDecay;
export type ChainStep = GradientStep | UpdateStep;

/**
 * Biases and normalisation parameters by tfjs-layers' names
 * (`dense_Dense1/bias`, `batch_normalization_BatchNormalization1/gamma`,
 * `.../beta`, with the `_1` a reloaded model gets): the variables that
 * weight decay skips unless told otherwise.
 */
export const DEFAULT_DECAY_SKIP = /(?:^|\/)(?:bias|beta|gamma)(?:_\d+)?$/;

function positive(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${where}: '${name}' must be a finite number > 0, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

export function clipByGlobalNorm(maxNorm: number): ClipByGlobalNorm {
  return { kind: 'clipByGlobalNorm', maxNorm: positive('clipByGlobalNorm', 'maxNorm', maxNorm) };
}

export function clipByValue(limit: number): ClipByValue {
  return { kind: 'clipByValue', limit: positive('clipByValue', 'limit', limit) };
}

export function accumulate(steps: number): Accumulate {
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) throw new Error(`accumulate: 'steps' must be a whole number >= 1, got ${JSON.stringify(steps) ?? String(steps)}`);
  return { kind: 'accumulate', steps };
}

export function skipNonFinite(): SkipNonFinite {
  return { kind: 'skipNonFinite' };
}

/** `weightDecay(0.01)` skips biases and normalisation scales (`DEFAULT_DECAY_SKIP`); `skip` takes a RegExp or a list of names. */
export function weightDecay(rate: number, options: { skip?: RegExp | readonly string[] } = {}): WeightDecay {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) throw new Error(`weightDecay: 'rate' must be a finite number >= 0, got ${JSON.stringify(rate) ?? String(rate)}`);
  const skip = options.skip ?? DEFAULT_DECAY_SKIP;
  if (skip instanceof RegExp) return { kind: 'weightDecay', rate, skip: { pattern: skip.source, flags: skip.flags.replace(/[gy]/g, '') } };
  if (!Array.isArray(skip) || skip.some((n) => typeof n !== 'string')) throw new Error(`weightDecay: 'skip' must be a RegExp or a list of variable names`);
  return { kind: 'weightDecay', rate, skip: [...skip] };
}

const GRADIENT_KINDS = ['clipByGlobalNorm', 'clipByValue', 'accumulate', 'skipNonFinite'] as const;
const UPDATE_KINDS = ['weightDecay'] as const;

/** Rebuilds a step from its plain form (as `getConfig` writes it), checking it. */
function stepFromConfig(c: unknown): ChainStep {
  const o = (c ?? {}) as Record<string, unknown>;
  switch (o['kind']) {
    case 'clipByGlobalNorm':
      return clipByGlobalNorm(o['maxNorm'] as number);
    case 'clipByValue':
      return clipByValue(o['limit'] as number);
    case 'accumulate':
      return accumulate(o['steps'] as number);
    case 'skipNonFinite':
      return skipNonFinite();
    case 'weightDecay': {
      // getConfig writes the mask as base64 JSON (see base64.ts); a hand-written config may give it plain.
      let skip = o['skip'] as WeightDecay['skip'] | string | undefined;
      if (typeof skip === 'string') {
        try {
          skip = JSON.parse(fromBase64(skip)) as WeightDecay['skip'];
        } catch {
          throw new Error(`chain: weightDecay's 'skip' is not a mask written by getConfig`);
        }
      }
      if (Array.isArray(skip)) return weightDecay(o['rate'] as number, { skip });
      if (skip && typeof skip === 'object' && typeof (skip as { pattern?: unknown }).pattern === 'string')
        return weightDecay(o['rate'] as number, { skip: new RegExp((skip as { pattern: string }).pattern, String((skip as { flags?: unknown }).flags ?? '')) });
      throw new Error(`chain: weightDecay's 'skip' must be { pattern, flags } or a list of names`);
    }
    default:
      throw new Error(`chain: unknown step ${JSON.stringify(o['kind'])} (steps: ${[...GRADIENT_KINDS, ...UPDATE_KINDS].join(', ')})`);
  }
}

function isStep(x: unknown): x is ChainStep {
  return typeof x === 'object' && x !== null && !(x instanceof tf.Optimizer) && typeof (x as { kind?: unknown }).kind === 'string';
}

/** The rule's learning rate for the coming step: an optevo optimizer's scheduled rate, or tf.train's `learningRate`. */
function ruleLearningRate(rule: tf.Optimizer): number | undefined {
  const r = rule as unknown as { learningRateAt?: (step: number) => number; learningRate?: unknown };
  if (typeof r.learningRateAt === 'function') return r.learningRateAt(rule.iterations + 1);
  return typeof r.learningRate === 'number' ? r.learningRate : undefined;
}

interface AccumulatorState {
  count: number;
  sums: Map<string, tf.Variable>;
}

/** An optimizer made of steps around a rule. Build one with `chain(...)`. */
export class ChainedOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'OptevoChain';
  }

  readonly rule: tf.Optimizer;
  readonly before: readonly GradientStep[];
  readonly after: readonly UpdateStep[];
  /** Steps dropped by `skipNonFinite` so far. */
  skipped = 0;
  private readonly accumulators: AccumulatorState[];
  private readonly skipTests: ((name: string) => boolean)[];

  constructor(rule: tf.Optimizer, before: readonly GradientStep[], after: readonly UpdateStep[]) {
    super();
    if (!(rule instanceof tf.Optimizer)) throw new Error('chain: the rule must be a tf.Optimizer, such as optimizers.adam()');
    this.rule = rule;
    this.before = before;
    this.after = after;
    this.accumulators = before.filter((s) => s.kind === 'accumulate').map(() => ({ count: 0, sums: new Map() }));
    this.skipTests = after.map((s) => {
      if (Array.isArray(s.skip)) {
        const names = new Set(s.skip as readonly string[]);
        return (n: string) => names.has(n);
      }
      const { pattern, flags } = s.skip as { pattern: string; flags: string };
      const re = new RegExp(pattern, flags);
      return (n: string) => re.test(n);
    });
    if (after.length > 0 && ruleLearningRate(rule) === undefined)
      throw new Error(`chain: weightDecay scales with the rule's learning rate, and ${rule.getClassName()} has no numeric learningRate`);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    let grads: NamedTensor[] = (Array.isArray(variableGradients) ? variableGradients.map((v) => ({ name: v.name, tensor: v.tensor })) : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }))).filter(
      (g) => g.tensor != null,
    );
    const made: tf.Tensor[] = [];
    const own = (ts: NamedTensor[]) => {
      made.push(...ts.map((t) => t.tensor));
      return ts;
    };
    const finish = () => {
      tf.dispose(made);
      this.incrementIterations();
    };
    let acc = 0;
    for (const s of this.before) {
      switch (s.kind) {
        case 'clipByGlobalNorm':
          grads = own(
            tf.tidy(() => {
              const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g.tensor)))));
              const scale = tf.div(s.maxNorm, tf.maximum(norm, s.maxNorm));
              return grads.map((g) => ({ name: g.name, tensor: tf.mul(g.tensor, scale) }));
            }),
          );
          break;
        case 'clipByValue':
          grads = own(tf.tidy(() => grads.map((g) => ({ name: g.name, tensor: tf.clipByValue(g.tensor, -s.limit, s.limit) }))));
          break;
        case 'skipNonFinite': {
          // One read back per step: the price of deciding on the CPU.
          const all = tf.tidy(() => tf.all(tf.stack(grads.map((g) => tf.all(tf.isFinite(g.tensor))))));
          const finite = all.dataSync()[0] === 1;
          all.dispose();
          if (!finite) {
            this.skipped++;
            finish();
            return;
          }
          break;
        }
        case 'accumulate': {
          const a = this.accumulators[acc++]!;
          for (const g of grads) {
            let sum = a.sums.get(g.name);
            if (!sum) a.sums.set(g.name, (sum = tf.tidy(() => tf.variable(tf.zerosLike(g.tensor), false))));
            tf.tidy(() => sum.assign(tf.add(sum, g.tensor)));
          }
          a.count++;
          if (a.count < s.steps) {
            finish();
            return;
          }
          grads = own(tf.tidy(() => [...a.sums].map(([name, sum]) => ({ name, tensor: tf.div(sum, s.steps) }))));
          a.count = 0;
          tf.tidy(() => a.sums.forEach((sum) => sum.assign(tf.zerosLike(sum))));
          break;
        }
        default: {
          const never: never = s;
          throw new Error(`chain: unknown step ${JSON.stringify(never)}`);
        }
      }
    }
    // The decay uses the weights before the rule's step, so it adds to the update whatever the rule reads.
    const lr = this.after.length > 0 ? ruleLearningRate(this.rule)! : 0;
    const decays: [tf.Variable, tf.Tensor][] = [];
    this.after.forEach((s, i) => {
      if (s.rate === 0) return;
      for (const g of grads) {
        if (this.skipTests[i]!(g.name)) continue;
        const v = tf.engine().registeredVariables[g.name];
        if (!v) throw new Error(`chain: no variable named '${g.name}'`);
        decays.push([v, tf.tidy(() => tf.mul(v, lr * s.rate))]);
      }
    });
    this.rule.applyGradients(grads);
    tf.tidy(() => decays.forEach(([v, d]) => v.assign(tf.sub(v, d))));
    tf.dispose(decays.map(([, d]) => d));
    finish();
  }

  /** The chain's step count, then the rule's state as `rule/...`, then the accumulators as `accumulate0/VARIABLE` and their counts. */
  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const w of await this.rule.getWeights()) out.push({ name: `rule/${w.name}`, tensor: w.tensor });
    this.accumulators.forEach((a, i) => {
      out.push({ name: `accumulate${i}/count`, tensor: tf.scalar(a.count, 'int32') });
      for (const [name, sum] of a.sums) out.push({ name: `accumulate${i}/${name}`, tensor: sum });
    });
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const rule: NamedTensor[] = [];
    for (const { name, tensor } of rest) {
      if (name.startsWith('rule/')) {
        rule.push({ name: name.slice(5), tensor });
        continue;
      }
      const m = /^accumulate(\d+)\/(.+)$/.exec(name);
      const a = m ? this.accumulators[Number(m[1])] : undefined;
      if (!m || !a) throw new Error(`chain: setWeights: '${name}' is not a state of this chain (expected rule/..., accumulateN/...)`);
      if (m[2] === 'count') a.count = (await tensor.data())[0]!;
      else {
        a.sums.get(m[2]!)?.dispose();
        a.sums.set(m[2]!, tf.tidy(() => tf.variable(tf.cast(tensor, 'float32'), false)));
      }
    }
    await this.rule.setWeights(rule);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      rule: { className: this.rule.getClassName(), config: this.rule.getConfig() },
      steps: [...this.before, ...this.after].map(
        (s) => (s.kind === 'weightDecay' ? { ...s, skip: toBase64(JSON.stringify(s.skip)) } : { ...s }) as unknown as tf.serialization.ConfigDict,
      ),
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const rule = config['rule'] as { className?: unknown; config?: unknown } | undefined;
    if (!rule || typeof rule.className !== 'string') throw new Error(`${ChainedOptimizer.className}.fromConfig: needs 'rule' with a 'className'`);
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[rule.className];
    if (!entry) throw new Error(`${ChainedOptimizer.className}.fromConfig: the rule's class '${rule.className}' is not registered with tf.serialization`);
    const [ruleCls, ruleFromConfig] = entry;
    const built = ruleFromConfig(ruleCls, (rule.config ?? {}) as tf.serialization.ConfigDict) as unknown as tf.Optimizer;
    const steps = config['steps'];
    if (!Array.isArray(steps)) throw new Error(`${ChainedOptimizer.className}.fromConfig: 'steps' must be a list`);
    return chain(...steps.map(stepFromConfig).slice(0, countBefore(steps)), built, ...steps.map(stepFromConfig).slice(countBefore(steps))) as unknown as T;
  }

  override dispose(): void {
    for (const a of this.accumulators) for (const s of a.sums.values()) s.dispose();
    this.rule.dispose();
    super.dispose();
  }
}

function countBefore(steps: readonly unknown[]): number {
  return steps.filter((s) => (GRADIENT_KINDS as readonly unknown[]).includes((s as { kind?: unknown })?.kind)).length;
}

/**
 * `chain(clipByGlobalNorm(1), optimizers.adam(), weightDecay(0.01))`: gradient
 * steps, then exactly one rule (a `tf.Optimizer`), then update steps. The
 * chain owns the rule: disposing the chain disposes it.
 */
export function chain(...parts: readonly (ChainStep | tf.Optimizer)[]): ChainedOptimizer {
  const at = parts.findIndex((p) => p instanceof tf.Optimizer);
  if (at < 0) throw new Error('chain: needs one rule, a tf.Optimizer such as optimizers.adam(), among its parts');
  if (parts.slice(at + 1).some((p) => p instanceof tf.Optimizer)) throw new Error('chain: takes exactly one rule (tf.Optimizer); found more than one');
  parts.forEach((p, i) => {
    if (i !== at && !isStep(p)) throw new Error(`chain: part ${i + 1} is neither a step (clipByGlobalNorm, weightDecay, ...) nor a tf.Optimizer`);
  });
  const before = parts.slice(0, at) as ChainStep[];
  const after = parts.slice(at + 1) as ChainStep[];
  for (const s of before)
    if (!(GRADIENT_KINDS as readonly string[]).includes(s.kind)) throw new Error(`chain: ${s.kind} adds to the rule's update: put it after the rule`);
  for (const s of after)
    if (!(UPDATE_KINDS as readonly string[]).includes(s.kind)) throw new Error(`chain: ${s.kind} transforms gradients: put it before the rule`);
  return new ChainedOptimizer(parts[at] as tf.Optimizer, before as GradientStep[], after as UpdateStep[]);
}

tf.serialization.registerClass(ChainedOptimizer);
