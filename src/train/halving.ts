/**
 * The rule of the `halving` sweep (Hyperband's idea, made cautious): every
 * rate trains to the first rung; there the rates clearly behind are stopped,
 * and so at each rung; the survivors finish. "Clearly behind" is failed, or
 * a smoothed training loss (all rates see the same batches, so the
 * comparison is paired) worse than the best running rate's by more than
 * `margin`, outside the `keep` best. The margin is a fraction of the best
 * smoothed loss ('loss'), or of the best rate's progress, its fall from the
 * first step's loss, which every rate shares ('progress': unlike the loss
 * itself, blind to a task's loss floor and to the smoothing's memory of the
 * first steps). The full sweep picks its rate by the validation loss at the
 * end, which a rate close behind at a rung can still win; one far behind
 * seldom does.
 *
 * Pure: the trainer applies it at its rungs, and bench/halving-rules.ts
 * replays it on rankings recorded from full sweeps.
 */

/** Every rate trained to the end, or the rates clearly behind stopped at rungs. */
export type SweepKind = 'full' | 'halving';

export interface HalvingRule {
  /** Fractions of the steps where the rates are ranked, ascending, in (0, 1). */
  rungs: readonly number[];
  /** What the margin is a fraction of: the best smoothed loss, or the best rate's progress. */
  measure: 'loss' | 'progress';
  /** A rate more than this fraction (of the measure) above the best smoothed loss is behind. */
  margin: number;
  /** The best rates by smoothed loss always go on, this many. */
  keep: number;
}

export const HALVING: HalvingRule = { rungs: [0.25, 0.375, 0.625], measure: 'loss', margin: 0.5, keep: 2 };

/** Step counts at which the sweep stops to rank its rates (the last is the end of training). */
export function rungEnds(steps: number, sweep: SweepKind, rule: HalvingRule = HALVING): number[] {
  if (sweep === 'full') return [steps];
  const ends = rule.rungs.map((f) => Math.round(f * steps)).filter((e) => e >= 1 && e < steps);
  return [...new Set([...ends, steps])].sort((a, b) => a - b);
}

/**
 * Indices of the rates that go on, ascending: of those still running (not
 * failed), the `keep` best by smoothed loss and any within the margin of the
 * best. `first` is the loss of the first step (the same for every rate), for
 * 'progress'. A rate without a finite smoothed loss is behind every other.
 */
export function survivors(running: readonly number[], smoothed: ArrayLike<number>, rule: HalvingRule = HALVING, first = NaN): number[] {
  const v = (i: number) => (Number.isFinite(smoothed[i]!) ? smoothed[i]! : Infinity);
  const ranked = [...running].sort((a, b) => v(a) - v(b) || a - b);
  if (ranked.length === 0) return [];
  const best = v(ranked[0]!);
  const scale = rule.measure === 'loss' ? Math.abs(best) : Math.max(0, first - best);
  const limit = best + rule.margin * (Number.isFinite(scale) ? scale : 0);
  return ranked.filter((i, k) => k < Math.max(1, rule.keep) || (Number.isFinite(best) && v(i) <= limit)).sort((a, b) => a - b);
}
