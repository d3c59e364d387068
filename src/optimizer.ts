/**
 * The `tf.Optimizer` adapter: any checked program, compiled to tfjs ops, as an
 * ordinary TensorFlow.js optimizer. The rule is a pure step over explicit
 * state (`dsl/compile.ts`); this class only keeps that state in variables,
 * keyed by the model variable's name, and applies the update.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Program } from '../dsl/ast.js';
import { type CompiledProgram, compile } from '../dsl/compile.js';
import type { Lowered } from '../dsl/lower.js';
import { parse } from '../dsl/parse.js';
import { print } from '../dsl/print.js';
import { camelCase } from '../seeds/index.js';
import { fromBase64, toBase64 } from './base64.js';
import { isScheduleValue, schedules } from './schedules.js';

/** tfjs does not export its `NamedTensor`. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/**
 * A learning-rate schedule: the factor applied to `learningRate` at a step
 * (1-based, the `step` a program sees). A value from `schedules` carries its
 * config and is serialised by `getConfig`; a plain function is not.
 */
export type Schedule = (step: number) => number;

export interface ProgramOptimizerOptions {
  program: Program;
  /** API (camelCase) names; `learningRate` defaults to the program's `learning_rate`. */
  hparams?: Readonly<Record<string, number | undefined>>;
  schedule?: Schedule;
  /** The seed's name, when the program is a seed: for messages and the config. */
  name?: string;
}

interface Resolved {
  learningRate: number;
  /** Every hyperparameter by API name, `learningRate` first. */
  api: Record<string, number>;
  /** Overrides for the compiler, by program (snake_case) name. */
  program: Record<string, number>;
}

/** Checks the caller's hyperparameters against the program's and fills in the defaults. */
export function resolveHparams(p: Program, given: Readonly<Record<string, unknown>>, label: string): Resolved {
  const snakeOf = new Map<string, string>();
  for (const h of p.hparams) {
    const api = camelCase(h.name);
    const clash = snakeOf.get(api);
    if (clash !== undefined) throw new Error(`${label}: hyperparameters '${clash}' and '${h.name}' have the same API name '${api}'`);
    snakeOf.set(api, h.name);
  }
  const lrName = snakeOf.get('learningRate');
  const allowed = ['learningRate', ...[...snakeOf.keys()].filter((k) => k !== 'learningRate')];
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    throw new Error(`${label}: hyperparameters must be an object such as { learningRate: 0.01 }`);
  for (const [k, v] of Object.entries(given)) {
    if (!allowed.includes(k)) {
      const near = allowed.filter((a) => a.toLowerCase() === k.toLowerCase() || camelCase(k) === a);
      const hint = near.length ? ` (did you mean '${near[0]}'?)` : '';
      throw new Error(`${label}: unknown hyperparameter '${k}'${hint}; it takes ${allowed.join(', ')}`);
    }
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v)))
      throw new Error(`${label}: hyperparameter '${k}' must be a finite number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v) ?? typeof v}`);
  }
  const value = (k: string): number | undefined => given[k] as number | undefined;
  const learningRate = value('learningRate') ?? (lrName !== undefined ? p.hparams.find((h) => h.name === lrName)!.value : undefined);
  if (learningRate === undefined)
    throw new Error(`${label}: learningRate is required (the program declares no learning_rate default)`);
  const api: Record<string, number> = { learningRate };
  const program: Record<string, number> = {};
  for (const h of p.hparams) {
    const k = camelCase(h.name);
    const v = k === 'learningRate' ? learningRate : (value(k) ?? h.value);
    if (k !== 'learningRate') api[k] = v;
    if (v !== h.value) program[h.name] = v;
  }
  return { learningRate, api, program };
}

/**
 * Whether the compiled program does arithmetic on the learning rate with
 * plain numbers (`lr / (1 - beta1 ** step)`): the compiler folds that in
 * JavaScript when lr is a number. When lr only ever meets tensors
 * (`lr * g`), handing it over as one kept scalar tensor saves making a new
 * scalar tensor per parameter per step, which is most of the cost of SGD on a
 * small model.
 */
export function foldsLearningRate(low: Lowered): boolean {
  if (low.lr === null) return false;
  // Registers holding plain numbers when lr and step are numbers, and those derived from lr.
  const numeric = new Set<number>([low.lr, ...(low.step === null ? [] : [low.step])]);
  const fromLr = new Set<number>([low.lr]);
  const isNum = (o: Lowered['instrs'][number]['args'][number]) => 'value' in o || numeric.has(o.reg);
  for (const ins of low.instrs) {
    const allNumbers = ins.args.every(isNum) && (ins.row === null || ins.row.form !== 'reduction');
    const readsLr = ins.args.some((o) => 'reg' in o && fromLr.has(o.reg));
    numeric.delete(ins.dst);
    fromLr.delete(ins.dst);
    if (allNumbers) numeric.add(ins.dst);
    if (readsLr) {
      if (allNumbers && ins.row !== null) return true;
      if (ins.row === null) fromLr.add(ins.dst);
    }
  }
  return false;
}

interface VariableState {
  readonly shape: readonly number[];
  readonly slots: tf.Variable[];
}

/** A program, compiled, as a `tf.Optimizer`. Build one with `optimizers.NAME` or `createOptimizer`. */
export class ProgramOptimizer extends tf.Optimizer {
  /** The name under which `tf.serialization` knows this class. */
  static get className(): string {
    return 'OptevoProgramOptimizer';
  }

  readonly program: Program;
  /** The seed's name, or undefined for any other program. */
  readonly seed: string | undefined;
  /** Every hyperparameter of the program (API names), with defaults filled in; not `learningRate`. */
  readonly hparams: Readonly<Record<string, number>>;
  readonly schedule: Schedule | undefined;
  private lr: number;
  private readonly label: string;
  private readonly compiled: CompiledProgram;
  private readonly slotNames: readonly string[];
  private readonly state = new Map<string, VariableState>();
  /** Names restored by the last `setWeights`, in order, until the next step (see `adoptRestored`). */
  private restored: string[] | undefined;
  /** The learning rate as a kept scalar tensor, when the program takes it so (see `foldsLearningRate`). */
  private readonly lrAsTensor: boolean;
  private lrTensor: { value: number; tensor: tf.Scalar } | undefined;

  constructor(options: ProgramOptimizerOptions) {
    super();
    this.program = options.program;
    this.seed = options.name;
    this.label = options.name ?? 'optimizer';
    const r = resolveHparams(options.program, options.hparams === undefined ? {} : options.hparams, this.label);
    this.lr = r.learningRate;
    const { learningRate: _, ...rest } = r.api;
    this.hparams = Object.freeze(rest);
    if (options.schedule !== undefined && typeof options.schedule !== 'function')
      throw new Error(`${this.label}: schedule must be a function (step) => factor`);
    this.schedule = options.schedule;
    this.compiled = compile(options.program, { tf, hparams: r.program });
    this.slotNames = this.compiled.slots.map((s) => s.name);
    this.lrAsTensor = this.compiled.lowered.lr !== null && !foldsLearningRate(this.compiled.lowered);
  }

  private lrOperand(lr: number): number | tf.Scalar {
    if (!this.lrAsTensor) return lr;
    if (this.lrTensor?.value !== lr) {
      this.lrTensor?.tensor.dispose();
      this.lrTensor = { value: lr, tensor: tf.keep(tf.scalar(lr)) };
    }
    return this.lrTensor.tensor;
  }

  /** The base learning rate (before the schedule). Settable, e.g. by a callback. */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(v: number) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${this.label}: learningRate must be a finite number, got ${String(v)}`);
    this.lr = v;
  }

  /** The learning rate a program sees at a step (1-based): learningRate times the schedule. */
  learningRateAt(step: number): number {
    if (!this.schedule) return this.lr;
    const f = this.schedule(step);
    const lr = this.lr * f;
    if (!Number.isFinite(lr)) throw new Error(`${this.label}: the schedule gave ${String(f)} at step ${step}`);
    return lr;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const pairs: [string, tf.Tensor][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    const names: string[] = [];
    const vars: tf.Variable[] = [];
    const grads: tf.Tensor[] = [];
    for (const [name, g] of pairs) {
      if (g == null) continue;
      const v = tf.engine().registeredVariables[name];
      if (!v) throw new Error(`${this.label}: no variable named '${name}'`);
      // A gradient must be shaped like its variable: tfjs would broadcast a scalar or a
      // compatible shape without a word, and the update would be silently wrong.
      if (!(g instanceof tf.Tensor)) throw new Error(`${this.label}: the gradient of '${name}' is not a tensor`);
      if (g.shape.length !== v.shape.length || g.shape.some((d, i) => d !== v.shape[i]))
        throw new Error(`${this.label}: the gradient of '${name}' has shape [${g.shape.join(', ')}], but the variable has shape [${v.shape.join(', ')}]`);
      names.push(name);
      vars.push(v);
      grads.push(g);
    }
    const step = this.iterations + 1;
    const lr = this.learningRateAt(step);
    if (vars.length > 0) {
      if (this.restored) this.adoptRestored(names, vars);
      const states = vars.map((v, i) => this.stateOf(names[i]!, v).slots);
      const lrIn = this.lrOperand(lr);
      tf.tidy(() => {
        const out = this.compiled.step(vars, grads, states, lrIn, step);
        // Everything is computed before anything is assigned. A returned input
        // variable is pinned to its current value first, because assigning
        // another variable may re-point it.
        const pin = (t: tf.Tensor): tf.Tensor => (t instanceof tf.Variable ? tf.clone(t) : t);
        const next = vars.map((v, i) => tf.sub(v, out.updates[i]!));
        const newStates = out.states.map((s, i) => s.map((t, k) => (t === states[i]![k] ? null : pin(t))));
        newStates.forEach((s, i) => s.forEach((t, k) => t && states[i]![k]!.assign(t)));
        vars.forEach((v, i) => v.assign(next[i]!));
      });
    }
    this.incrementIterations();
  }

  /**
   * State restored by `setWeights` is found by variable name. A model loaded
   * again in the same process has renamed variables (tfjs-layers appends
   * `_1`), so when none of the restored names is among the first step's
   * variables, and the variables without state match the restored entries one
   * for one, in order and shape (the order `getWeights` saved them in), they
   * take that state, as tfjs's own optimizers would by position. Otherwise
   * unmatched variables start afresh. Only the first step after `setWeights`
   * does this.
   */
  private adoptRestored(names: string[], vars: tf.Variable[]): void {
    const restored = this.restored!;
    this.restored = undefined;
    if (names.some((n) => restored.includes(n))) return;
    const fresh = names.map((n, i) => [n, vars[i]!] as const).filter(([n]) => !this.state.has(n));
    if (fresh.length !== restored.length) return;
    const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
    if (!fresh.every(([, v], i) => same(v.shape, this.state.get(restored[i]!)!.shape))) return;
    fresh.forEach(([n], i) => {
      this.state.set(n, this.state.get(restored[i]!)!);
      this.state.delete(restored[i]!);
    });
  }

  private stateOf(name: string, v: tf.Variable): VariableState {
    let s = this.state.get(name);
    if (s === undefined) {
      // Variables outlive a tidy; the filled tensor they start from does not.
      const slots = this.compiled.slots.map(({ init }) => tf.tidy(() => tf.variable(tf.fill(v.shape, init), false)));
      s = { shape: v.shape.slice(), slots };
      this.state.set(name, s);
    } else if (s.shape.length !== v.shape.length || s.shape.some((d, i) => d !== v.shape[i])) {
      throw new Error(`${this.label}: variable '${name}' has shape [${v.shape.join(', ')}] but its optimizer state has shape [${s.shape.join(', ')}]`);
    }
    return s;
  }

  /** The step count first, then each variable's state slots as `VARIABLE/SLOT`. */
  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const [name, s] of this.state) s.slots.forEach((t, k) => out.push({ name: `${name}/${this.slotNames[k]}`, tensor: t }));
    return out;
  }

  /** Restores what `getWeights` gave, by variable name (see `adoptRestored`); state not given starts afresh. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const index = new Map(this.slotNames.map((n, i) => [n, i]));
    const grouped = new Map<string, (tf.Tensor | undefined)[]>();
    for (const { name, tensor } of rest) {
      const cut = name.lastIndexOf('/');
      const k = cut < 0 ? undefined : index.get(name.slice(cut + 1));
      if (k === undefined)
        throw new Error(`${this.label}: setWeights: '${name}' is not a state of this optimizer (expected VARIABLE/${this.slotNames.join('|') || '(no state)'})`);
      const key = name.slice(0, cut);
      let slots = grouped.get(key);
      if (!slots) grouped.set(key, (slots = new Array<tf.Tensor | undefined>(this.slotNames.length)));
      slots[k] = tensor;
    }
    for (const [key, slots] of grouped) {
      for (let k = 0; k < slots.length; k++) if (!slots[k]) throw new Error(`${this.label}: setWeights: '${key}/${this.slotNames[k]}' is missing`);
      const shape = slots[0]!.shape;
      if (slots.some((t) => t!.shape.length !== shape.length || t!.shape.some((d, i) => d !== shape[i])))
        throw new Error(`${this.label}: setWeights: the states of '${key}' differ in shape`);
    }
    this.disposeState();
    this.restored = [...grouped.keys()];
    for (const [key, slots] of grouped) {
      this.state.set(key, { shape: slots[0]!.shape.slice(), slots: slots.map((t) => tf.tidy(() => tf.variable(t!.dtype === 'float32' ? t! : tf.cast(t!, 'float32'), false))) });
    }
  }

  /**
   * `program` is the program's text in base64: tfjs-layers camel-cases every
   * string that contains an underscore when it loads a saved training config,
   * which would rename `weight_decay` in the text. `fromConfig` also takes
   * plain text as `source`.
   */
  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      program: toBase64(print(this.program)),
      hparams: { learningRate: this.lr, ...this.hparams },
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    if (isScheduleValue(this.schedule)) config['schedule'] = this.schedule.config as unknown as tf.serialization.ConfigDict;
    return config;
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { program, hparams, seed, schedule } = config;
    const source = typeof program === 'string' ? fromBase64(program) : config['source'];
    if (typeof source !== 'string') throw new Error(`${ProgramOptimizer.className}.fromConfig: needs 'program' (base64) or 'source' (program text)`);
    if (hparams === null || typeof hparams !== 'object' || Array.isArray(hparams))
      throw new Error(`${ProgramOptimizer.className}.fromConfig: 'hparams' must be an object`);
    if (seed !== undefined && typeof seed !== 'string') throw new Error(`${ProgramOptimizer.className}.fromConfig: 'seed' must be a name`);
    const options: ProgramOptimizerOptions = { program: parse(source), hparams: hparams as Record<string, number> };
    if (seed !== undefined) options.name = seed;
    if (schedule !== undefined) options.schedule = schedules.fromConfig(schedule);
    return new cls(options);
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const t of s.slots) t.dispose();
    this.state.clear();
  }

  override dispose(): void {
    this.disposeState();
    this.lrTensor?.tensor.dispose();
    this.lrTensor = undefined;
    this.compiled.dispose();
    super.dispose();
  }
}

tf.serialization.registerClass(ProgramOptimizer);
