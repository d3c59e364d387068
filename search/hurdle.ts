/**
 * Hurdles: every new child is trained on the quick suite first; only those
 * whose quick fitness reaches the population's `hurdle` percentile (of the
 * members' quick fitness) go on to the standard suite.
 *
 * Fitness stays comparable across the two stages: a child stopped at the
 * hurdle gets its quick fitness shifted by the population's mean gap between
 * standard and quick fitness (over members that ran both), an estimate of the
 * standard fitness it would have had. The threshold and the shift are computed
 * from the state the child was bred from, so they are deterministic.
 */

/** Linear-interpolation quantile (R type 7) of unsorted values; `q` in [0, 1]. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return -Infinity;
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

export interface HurdleMember {
  /** Quick-suite fitness. */
  quick: number | null;
  /** Standard-suite fitness, when the member ran it. */
  standard: number | null;
}

export interface Hurdle {
  /** Quick fitness a child must reach to run the standard suite. */
  threshold: number;
  /** Added to the quick fitness of a child stopped at the hurdle. */
  offset: number;
}

export function hurdleFor(members: readonly HurdleMember[], percentile: number): Hurdle {
  const quicks = members.map((m) => m.quick).filter((x): x is number => x !== null && Number.isFinite(x));
  const threshold = percentile <= 0 ? -Infinity : quantile(quicks, percentile);
  const gaps = members
    .filter((m) => m.quick !== null && m.standard !== null && Number.isFinite(m.quick) && Number.isFinite(m.standard))
    .map((m) => m.standard! - m.quick!);
  const offset = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : 0;
  return { threshold, offset };
}

/** True when a quick fitness clears the hurdle (ties pass). */
export function passes(quick: number, h: Hurdle): boolean {
  return quick >= h.threshold;
}
