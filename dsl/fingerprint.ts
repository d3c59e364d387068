/**
 * Fingerprints, so that equivalent programs are trained once.
 *
 * - `structuralHash`: of the value graph (see simplify.ts): insensitive to
 *   variable names, dead code and the order of commutative operands.
 * - `functionalFingerprint`: of the updates a program makes over a few steps
 *   on fixed pseudo-random inputs, rounded, as AutoML-Zero's functional
 *   equivalence check does: `a + b` and `b + a`, or a program and its
 *   simplified form, share it; different programs practically never do.
 *
 * The fingerprint is taken up to scale where scale is what a learning-rate
 * sweep undoes. A program whose learning rate enters only as a positive
 * factor of its whole update (its probe at 2 lr is its probe at lr, times a
 * factor other than 1) is fingerprinted by its updates divided by the size of
 * its first nonzero update, with the weights moved by those normalised
 * updates: so `c * P` and `P`, for any constant c > 0, share a fingerprint
 * (the sweep gives `c * P` at rate r what `P` gets at another rate), while
 * `-P` does not. A program that uses lr otherwise, or not at all, keeps the
 * fingerprint of its raw updates.
 */
import type { Program } from './ast.js';
import { interpreter } from './interpret.js';
import { mulberry32 } from './mulberry32.js';
import { familyHashOf, structuralHashOf, valueGraph } from './simplify.js';

export function structuralHash(p: Program): string {
  return structuralHashOf(valueGraph(p));
}

/** The structural hash with constants abstracted: programs that differ only in constants share it. */
export function familyHash(p: Program): string {
  return familyHashOf(valueGraph(p));
}

// Fixed probe inputs: two parameters of different sizes (so per-tensor and
// global reductions differ), a few steps, and values whose magnitudes span
// 1e-3 to 5 with both signs, so that comparisons, clamps and saturating
// functions take both branches.
const SIZES = [4, 7];
const STEPS = 3;
const LR = 0.1;

const PROBE = (() => {
  const r = mulberry32(20230214);
  const value = () => (r() < 0.5 ? -1 : 1) * Math.pow(10, -3 + 3.7 * r());
  const vec = (n: number) => Float64Array.from({ length: n }, value);
  const ws = SIZES.map(vec);
  const gs = Array.from({ length: STEPS }, () => SIZES.map(vec));
  return { ws, gs };
})();

// Rounds a double to its top 24 mantissa bits (about 7 significant digits)
// and mixes its bits into two running 32-bit hashes: no strings, no garbage.
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HI = 1; // little-endian: word 1 holds sign, exponent and the top of the mantissa
const LO = 0;

class Mixer {
  h1 = 0x811c9dc5;
  h2 = 0x2545f491;
  finite = true;
  add(x: number): void {
    if (!Number.isFinite(x)) this.finite = false;
    if (x === 0) x = 0; // -0 and 0 alike
    F64[0] = x;
    // Keep 20 bits of the high word's mantissa and the top 4 of the low word.
    let lo = U32[LO]!;
    let hi = U32[HI]!;
    lo = (lo + 0x08000000) >>> 0;
    if (lo < 0x08000000) hi = (hi + 1) >>> 0; // carry
    lo &= 0xf0000000;
    this.h1 = Math.imul(this.h1 ^ hi, 0x01000193);
    this.h1 = Math.imul(this.h1 ^ lo, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ hi, 0x5bd1e995) ^ (this.h2 >>> 15);
    this.h2 = Math.imul(this.h2 ^ lo, 0x5bd1e995) ^ (this.h2 >>> 15);
  }
  digest(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }
}

/** The raw fingerprint's second rate: not a simple multiple of LR, so no constant folds both into one. */
const OTHER_LR = 0.0371;

/** One digest from two (for a fingerprint made of two probes). */
function mixDigests(a: string, b: string): string {
  const m = new Mixer();
  // 16-bit pieces: the mixer keeps about 24 bits of each number it is given.
  for (const d of [a, b]) for (let i = 0; i < d.length; i += 4) m.add(parseInt(d.slice(i, i + 4), 16));
  return m.digest();
}

/** The step size that moves the probe's weights in the normalised (up-to-scale) probe. */
const NORMALISED_STEP = 0.1;

interface Probe {
  digest: string;
  finite: boolean;
  /** Size (largest |u|) of the first nonzero update; 0 when every update was 0. */
  scale: number;
}

/**
 * Runs the program on the probe at rate `lr`. Raw: hashes the updates and moves
 * the weights by them. Normalised: hashes the updates divided by the size of
 * the first nonzero one, and moves the weights by NORMALISED_STEP times that.
 */
function probe(p: Program, lr: number, normalised: boolean, opts: { checked?: boolean }): Probe {
  const it = interpreter(p, {}, opts);
  let ws = PROBE.ws;
  let state = it.init(ws);
  const mix = new Mixer();
  let scale = 0;
  for (let s = 0; s < STEPS; s++) {
    const { updates, state: next } = it.step(ws, PROBE.gs[s]!, state, lr);
    state = next;
    if (normalised && scale === 0) {
      for (const u of updates) for (let i = 0; i < u.length; i++) scale = Math.max(scale, Math.abs(u[i]!));
      if (!Number.isFinite(scale)) return { digest: '', finite: false, scale };
    }
    const k = !normalised ? 1 : scale > 0 ? 1 / scale : 0;
    for (const u of updates) for (let i = 0; i < u.length; i++) mix.add(u[i]! * k);
    const move = normalised ? k * NORMALISED_STEP : 1;
    if (s + 1 < STEPS) ws = ws.map((w, j) => w.map((x, i) => x - updates[j]![i]! * move));
  }
  return { digest: mix.digest(), finite: mix.finite, scale };
}

export function functionalFingerprint(p: Program, opts: { checked?: boolean; structuralHash?: string } = {}): string {
  const a = probe(p, LR, true, opts);
  if (a.finite && a.scale > 0) {
    const b = probe(p, 2 * LR, true, opts);
    // lr is a positive factor of the whole update, and it does change the update's size.
    if (b.finite && b.digest === a.digest && Math.abs(Math.log(b.scale / a.scale)) > 0.01) return 's' + a.digest;
  }
  const raw = probe(p, LR, false, opts);
  // Programs that blow up on the probe are told apart by structure instead.
  if (!raw.finite) return 'nf' + (opts.structuralHash ?? structuralHash(p)).slice(0, 14);
  // A second rate: at one rate alone, `g + 10 (1 - lr)` and `g + 9` make the same updates.
  const other = probe(p, OTHER_LR, false, opts);
  return 'f' + (other.finite ? mixDigests(raw.digest, other.digest) : raw.digest);
}

/**
 * Whether the learning rate changes anything the program does: its updates
 * on the probe at lr and at 3 lr differ. A program that ignores lr gains
 * nothing from a learning-rate sweep (every rate trains the same run).
 */
export function usesLearningRate(p: Program, opts: { checked?: boolean } = {}): boolean {
  const a = probe(p, LR, false, opts);
  const b = probe(p, 3 * LR, false, opts);
  return !(a.finite && b.finite && a.digest === b.digest);
}
