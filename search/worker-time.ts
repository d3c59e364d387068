/**
 * Where the workers' time goes. Every evaluation a worker runs is booked to
 * one use; what the workers could have run but did not is idle. A search
 * that pays puts most of its time into programs never trained before.
 *
 * - `novel`: training children the cache did not know (quick and standard suites);
 * - `reference`: the reference optimizer's results and the suite's noise, once per run;
 * - `metaval`: meta-validation of the top programs on the held-out suite, the
 *   reference's results on that suite included (the price of meta-validating,
 *   held within `--metaval-share` with the rest);
 * - `reeval`: re-evaluating would-be bests on a fresh evaluation seed;
 * - `idle`: worker capacity (workers x wall time) that ran nothing.
 */
export const TIME_USES = ['novel', 'reference', 'metaval', 'reeval'] as const;
export type TimeUse = (typeof TIME_USES)[number];

/** Milliseconds of worker time by use, and the capacity they came out of. */
export interface WorkerTime {
  novel: number;
  reference: number;
  metaval: number;
  reeval: number;
  /** Workers x wall time, summed over sessions. */
  capacity: number;
}

export const ZERO_WORKER_TIME: WorkerTime = { novel: 0, reference: 0, metaval: 0, reeval: 0, capacity: 0 };

export function busyMs(t: WorkerTime): number {
  return t.novel + t.reference + t.metaval + t.reeval;
}

/** Each use's share of the capacity (idle included), summing to 1; all 0 before any time. */
export function timeShares(t: WorkerTime): Record<TimeUse | 'idle', number> {
  const total = Math.max(t.capacity, busyMs(t));
  const share = (x: number) => (total > 0 ? x / total : 0);
  return {
    novel: share(t.novel),
    reference: share(t.reference),
    metaval: share(t.metaval),
    reeval: share(t.reeval),
    idle: share(Math.max(0, total - busyMs(t))),
  };
}

/** `novel 72% · reference 4% · metaval 18% · reeval 3% · idle 3%` */
export function formatTimeShares(t: WorkerTime): string {
  const s = timeShares(t);
  return (['novel', 'reference', 'metaval', 'reeval', 'idle'] as const).map((k) => `${k} ${Math.round(100 * s[k])}%`).join(' · ');
}
