/**
 * Weight initialisation, from the seed notes: Xavier-Glorot (uniform or
 * normal, scaled by a gain) and the older fan-in rule. Values are drawn in
 * JavaScript from a seeded stream, so a task's initial weights are the same
 * on every backend and for every replica of a sweep.
 */
import type { Rng } from '../data/rng.js';

export type InitKind = 'glorot-uniform' | 'glorot-normal' | 'fan-in' | 'zeros' | 'constant' | 'normal';

export interface InitRule {
  kind: InitKind;
  /** Multiplies the scale of the random rules (default 1). */
  gain?: number;
  /** The value for 'constant', the standard deviation for 'normal'. */
  value?: number;
}

/**
 * Fan-in and fan-out of a weight shape: the last axis is the output; a
 * convolution filter [kh, kw, in, out] has receptive field kh*kw.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const field = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * field, fanOut: shape[shape.length - 1]! * field };
}

/**
 * Fills a new array of `size(shape)` values.
 *  - glorot-uniform: U(-a, a), a = gain * sqrt(6 / (in + out))
 *  - glorot-normal: N(0, s^2), s = gain * sqrt(2 / (in + out))
 *  - fan-in (pre-Glorot, LeCun 1998): U(-a, a), a = gain * sqrt(3 / in), i.e. standard deviation gain / sqrt(in)
 *  - normal: N(0, value^2); constant: value; zeros: 0
 */
export function initValues(shape: readonly number[], rule: InitRule, r: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const gain = rule.gain ?? 1;
  const { fanIn, fanOut } = fans(shape);
  switch (rule.kind) {
    case 'zeros':
      break;
    case 'constant':
      out.fill(rule.value ?? 0);
      break;
    case 'normal':
      for (let i = 0; i < n; i++) out[i] = r.normal() * (rule.value ?? 0.01);
      break;
    case 'glorot-uniform': {
      const a = gain * Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * a;
      break;
    }
    case 'glorot-normal': {
      const s = gain * Math.sqrt(2 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) out[i] = r.normal() * s;
      break;
    }
    case 'fan-in': {
      const a = gain * Math.sqrt(3 / fanIn);
      for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * a;
      break;
    }
    default: {
      const never: never = rule.kind;
      throw new Error(`unknown initialisation ${String(never)}`);
    }
  }
  return out;
}

export function parseInit(text: string): InitRule {
  const m = /^([a-z-]+)(?::([0-9.eE+-]+))?$/.exec(text.trim());
  const kinds: InitKind[] = ['glorot-uniform', 'glorot-normal', 'fan-in', 'zeros', 'constant', 'normal'];
  if (!m || !kinds.includes(m[1] as InitKind)) throw new Error(`unknown initialisation '${text}' (expected ${kinds.join(', ')}, optionally :GAIN)`);
  const kind = m[1] as InitKind;
  const v = m[2] === undefined ? undefined : Number(m[2]);
  if (kind === 'constant' || kind === 'normal') return v === undefined ? { kind } : { kind, value: v };
  return v === undefined ? { kind } : { kind, gain: v };
}
