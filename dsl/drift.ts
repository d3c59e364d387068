/**
 * Constant drift: an update that moves the weights by an amount that depends
 * on neither the gradient nor the weights. A proxy task whose optimum sits at
 * a fixed place relative to the start rewards such a move (shift every weight
 * by -1 and Rosenbrock's valley comes closer); no optimizer should make it.
 *
 * The test: from the initial state, at zero weights, feed zero gradients for a
 * few steps. A real optimizer (momentum, Adam, decoupled weight decay) then
 * makes no update; a drift makes one as large as its gradient-driven updates.
 * Anything below a thousandth of the program's update on a real gradient (an
 * epsilon in a sum) is not a drift.
 */
import type { Program } from './ast.js';
import { interpreter } from './interpret.js';

const SIZES = [4, 7];
const STEPS = 3;
const LR = 0.1;
/** Drift below this fraction of the gradient-driven update is numerical dust, not a drift. */
const RELATIVE = 1e-3;

// A fixed gradient for the comparison: magnitudes around 1, both signs.
const G = SIZES.map((n) => Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1) * (0.5 + ((i * 7) % 5) / 5)));

/** A one-line description of the drift, or null when the program has none. */
export function constantDrift(p: Program, hparams: Record<string, number> = {}): string | null {
  const it = interpreter(p, hparams, { checked: true });
  const size = (us: Float64Array[]): number => {
    let m = 0;
    for (const u of us) for (let i = 0; i < u.length; i++) m = Math.max(m, Math.abs(u[i]!));
    return m;
  };
  const w0 = SIZES.map((n) => new Float64Array(n));
  const real = size(it.step(w0.map((w) => Float64Array.from(w, (_, i) => 0.3 * ((i % 3) - 1))), G, it.init(w0), LR).updates);

  let ws = w0;
  let state = it.init(ws);
  const zeros = SIZES.map((n) => new Float64Array(n));
  for (let s = 1; s <= STEPS; s++) {
    const out = it.step(ws, zeros, state, LR);
    state = out.state;
    const d = out.updates.length ? size(out.updates) : 0;
    if (!Number.isFinite(d)) return null; // blows up at zero: a failure the tasks will score, not a drift
    if (d > 1e-12 && !(Number.isFinite(real) && d < RELATIVE * real))
      return `constant drift: with zero gradients and zero weights, step ${s} moves the weights by up to ${d.toPrecision(3)} (at lr ${LR})`;
    ws = ws.map((w, k) => w.map((x, i) => x - out.updates[k]![i]!));
  }
  return null;
}
