/**
 * A seeded synthetic language for the small language-model task: a
 * second-order Markov chain over a small vocabulary in which every two-token
 * context allows only a few next tokens, with skewed probabilities. A model
 * that reads the last few tokens can learn it; its entropy rate bounds the
 * best reachable loss.
 */
import { rng } from './rng.js';

export interface Language {
  vocab: number;
  /** next[(a * vocab + b) * branching + k]: the k-th allowed token after a, b. */
  next: Int32Array;
  /** Cumulative probabilities, same layout. */
  cdf: Float64Array;
  branching: number;
}

export function makeLanguage(seed: number | string, vocab: number, branching: number): Language {
  const r = rng('language', seed, 'grammar');
  const next = new Int32Array(vocab * vocab * branching);
  const cdf = new Float64Array(vocab * vocab * branching);
  for (let c = 0; c < vocab * vocab; c++) {
    const p: number[] = [];
    for (let k = 0; k < branching; k++) {
      next[c * branching + k] = r.int(vocab);
      p.push(Math.exp(2 * r.normal()));
    }
    const s = p.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (let k = 0; k < branching; k++) {
      acc += p[k]! / s;
      cdf[c * branching + k] = k === branching - 1 ? 1 : acc;
    }
  }
  return { vocab, next, cdf, branching };
}

/** A token stream of length n from the language, seeded by `stream`. */
export function sample(lang: Language, n: number, stream: string): Int32Array {
  const r = rng('language', stream, 'text');
  const out = new Int32Array(n);
  out[0] = r.int(lang.vocab);
  if (n > 1) out[1] = r.int(lang.vocab);
  for (let i = 2; i < n; i++) {
    const c = out[i - 2]! * lang.vocab + out[i - 1]!;
    const u = r();
    let k = 0;
    while (k < lang.branching - 1 && u >= lang.cdf[c * lang.branching + k]!) k++;
    out[i] = lang.next[c * lang.branching + k]!;
  }
  return out;
}

/** Next-token examples: `context` previous tokens (as numbers) and the token that follows. */
export function windows(tokens: Int32Array, context: number): { x: Float32Array; y: Int32Array; n: number } {
  const n = tokens.length - context;
  const x = new Float32Array(n * context);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < context; j++) x[i * context + j] = tokens[i + j]!;
    y[i] = tokens[i + context]!;
  }
  return { x, y, n };
}
