/**
 * How a run picks what it reports, beyond the tournament that picks parents.
 *
 * Noise. Each suite's noise level is measured once per run: AdamW's twin
 * (AdamW with epsilon halved, a change that cannot matter to training) is
 * scored against AdamW on several evaluation seeds; the noise is the spread
 * (root mean square) of those scores, the size of a difference that means
 * nothing. A floor keeps a suite whose tasks are exactly repeatable from
 * calling any 1e-9 gain an improvement.
 *
 * The lead. A child becomes the run's best only if it beats the best's held
 * fitness by more than the noise, and holds up: re-evaluated on a fresh
 * evaluation seed, the lower of its two fitnesses (its held fitness) still
 * beats it by more than the noise. A program flagged for a constant drift
 * never leads.
 *
 * The recommendation is a funnel, as in the Lion paper: among the top K on
 * held fitness (a re-evaluated child's lower score: search/commit.ts), the
 * best on meta-validation; before any meta-validation, the best (the lead).
 * The top K are also the programs meta-validation is asked for: ranked on
 * fitness alone, they were the children whose score a fresh seed had just
 * shown to be noise (D2: epsilon tweaks at +0.09 that held +0.03 to +0.06).
 */

/** The least noise a suite is said to have. */
export const NOISE_FLOOR = 0.005;

/** The spread of scores that should all be 0 (AdamW's twin against AdamW, one per evaluation seed). */
export function noiseOf(twinFitnesses: readonly number[]): number {
  const xs = twinFitnesses.filter((x) => Number.isFinite(x));
  if (xs.length === 0) return NOISE_FLOOR;
  const rms = Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);
  return Math.max(NOISE_FLOOR, rms);
}

/** Whether fitness `f` is an improvement on a best held at `held` (null: no best yet), given the noise. */
export function beats(f: number, held: number | null, noise: number): boolean {
  return held === null || f > held + noise;
}

/** The held fitness of a child re-evaluated on a fresh seed: the lower of the two. */
export function heldFitness(f: number, reeval: number | null): number {
  return reeval === null ? f : Math.min(f, reeval);
}

export interface FunnelEntry {
  id: number;
  fitness: number;
  metaval: number | null;
}

export interface Recommendation {
  id: number;
  /** The rule that picked it, in words, for `show`. */
  rule: string;
}

/**
 * The funnel: `top` are the run's top K on fitness (best first). The
 * meta-validated among them compete on meta-validation; with none, the lead.
 */
export function recommend(top: readonly FunnelEntry[], lead: number | null, k: number): Recommendation | null {
  const validated = top.filter((e) => e.metaval !== null);
  if (validated.length > 0) {
    const best = validated.reduce((a, b) => (b.metaval! > a.metaval! ? b : a));
    return { id: best.id, rule: `best on meta-validation (${validated.length} validated) among the top ${k} on held fitness` };
  }
  if (lead !== null) return { id: lead, rule: 'the best on fitness (no meta-validation yet)' };
  return top.length > 0 ? { id: top[0]!.id, rule: 'the best on fitness (no meta-validation yet)' } : null;
}
