/**
 * `optevo show RUN`: the run's summary and its best programs.
 */
import type { SqliteRunInfo as RunInfo } from '../../search/store.js';
import type { RunReader } from './reader.js';
import { rankedTasks, sizeOf, trainedText, type ChildRecord, type SearchStats } from '../../search/types.js';
import { describeMutation, formatDuration, formatFitness, formatLr, padLeft, padRight } from '../format.js';
import { formatStart, heldByLiveProcess, type RunSummary } from './runs.js';
import { UNLIMITED_CHILDREN } from '../../search/config.js';
import { recommend, type Recommendation } from '../../search/selection.js';
import { leaderOf } from '../../search/commit.js';
import { formatTimeShares } from '../../search/worker-time.js';

export interface LeaderRow {
  rank: number;
  id: number;
  fitness: number | null;
  metaval: number | null;
  status: ChildRecord['status'];
  size: number;
  parent: number | null;
  mutation: ChildRecord['mutation'];
  mutationDetail: string;
  tasks: { task: string; score: number | null; lr: number | null; loss: number | null; metric: number | null }[];
  simplified: string;
  /** Judged children of this program's family (same structure, other constants), itself included. */
  members: number;
}

export interface RunReport {
  run: Omit<RunInfo, 'status'> & { status: RunSummary['status'] };
  stats: SearchStats;
  /** One row per family (programs that differ only in constants), its best member first. */
  leaderboard: LeaderRow[];
  /** The program the run recommends (search/selection.ts: the funnel), and the rule that picked it. */
  recommended: Recommendation | null;
  /** The suite's measured noise level, when the run measured it. */
  noise: number | null;
}

/**
 * The funnel of a stored run: the best on meta-validation among its top K
 * (K: `--metaval-top`) on held fitness, as the search ranks its leaders
 * (search/commit.ts). Held fitness is at most the fitness, so the top K on
 * it are among the children whose fitness is at least the K-th held one.
 */
export function recommendation(store: RunReader): Recommendation | null {
  const k = store.config().metavalTop;
  for (let n = Math.max(k, 1) * 4; ; n *= 4) {
    const board = store.leaderboard(n);
    const top = board
      .flatMap((c) => (c.fitness === null ? [] : [{ ...leaderOf({ ...c, fitness: c.fitness }), metaval: c.metaval }]))
      .sort((a, b) => b.fitness - a.fitness || a.id - b.id)
      .slice(0, k);
    // A child below the board has a fitness, and so a held fitness, at most the board's last (ties go to lower ids).
    const last = board.at(-1)?.fitness ?? -Infinity;
    if (board.length < n || (top.length === k && last <= top[k - 1]!.fitness)) return recommend(top, store.counters().bestId, k);
  }
}

/** `live`: whether a process drives the run now (default: the SQLite run's lock file says so). */
export function runReport(store: RunReader, top: number, live?: boolean): RunReport {
  const families = store.families(top);
  const info = store.info();
  const suite = store.config().suite;
  return {
    run: { ...info, status: info.status === 'running' && !(live ?? heldByLiveProcess(info.dir)) ? 'interrupted' : info.status },
    stats: { ...store.stats(), workerTime: store.counters().workerTime },
    recommended: recommendation(store),
    noise: store.calibration().noise[suite]?.noise ?? null,
    leaderboard: families.map(({ best: c, members }, i) => ({
      members,
      rank: i + 1,
      id: c.id,
      fitness: c.fitness,
      metaval: c.metaval,
      status: c.status,
      size: sizeOf(c),
      parent: c.parent,
      mutation: c.mutation,
      mutationDetail: c.mutationDetail,
      tasks: rankedTasks(c).map((t) => ({ task: t.task, score: t.score, lr: t.lr, loss: t.loss, metric: t.metric })),
      simplified: trainedText(c),
    })),
  };
}

/** What `optevo show RUN` prints. */
/** `dirFlag` (e.g. ` --dir other`) is repeated in the hint it prints. */
export function formatRunReport(r: RunReport, dirFlag = ''): string {
  const s = r.stats;
  const out: string[] = [];
  if (r.recommended) out.push(`recommended: #${r.recommended.id}, ${r.recommended.rule}`);
  const judged = s.budget >= UNLIMITED_CHILDREN ? `${s.judged} judged` : `${s.judged}/${s.budget} judged`;
  out.push(`run ${r.run.name} (${r.run.status}), started ${formatStart(r.run.createdAt)}, ${judged} in ${formatDuration(s.elapsedMs)}`);
  out.push(
    `  best ${s.bestId === null ? '-' : `#${s.bestId} fitness ${formatFitness(s.bestFitness)}`}${r.noise === null ? '' : ` (noise ±${formatFitness(r.noise)})`}; trained ${s.trained}, pruned ${s.pruned}, cached ${s.cached}, invalid ${s.invalid}, failed ${s.failed}`,
  );
  if (s.workerTime && s.workerTime.capacity > 0) out.push(`  worker time: ${formatTimeShares(s.workerTime)}`);
  out.push(`  ${r.run.dir}`);
  out.push('');
  const best = r.leaderboard[0];
  if (best === undefined) {
    out.push('no trained program yet');
    return out.join('\n');
  }
  const taskNames: string[] = [];
  for (const row of r.leaderboard) for (const t of row.tasks) if (!taskNames.includes(t.task)) taskNames.push(t.task);
  const rankW = Math.max(2, String(r.leaderboard.length).length);
  const idW = Math.max(2, ...r.leaderboard.map((x) => String(x.id).length));
  const taskWidth = (t: string) => Math.max(7, t.length);
  const head = [
    padLeft('#', rankW),
    padLeft('id', idW),
    padLeft('fitness', 8),
    padLeft('metaval', 8),
    ...taskNames.map((t) => padLeft(t, taskWidth(t))),
    padLeft('size', 4),
    padLeft('parent', 6),
    padLeft('members', 7),
    padRight('status', 7),
    'mutation',
  ].join('  ');
  out.push(head);
  for (const row of r.leaderboard) {
    const scores = taskNames.map((t) => {
      const x = row.tasks.find((y) => y.task === t);
      return padLeft(x ? formatFitness(x.score) : '-', taskWidth(t));
    });
    out.push(
      [
        padLeft(String(row.rank), rankW),
        padLeft(String(row.id), idW),
        padLeft(formatFitness(row.fitness), 8),
        padLeft(formatFitness(row.metaval), 8),
        ...scores,
        padLeft(String(row.size), 4),
        padLeft(row.parent === null ? '-' : String(row.parent), 6),
        padLeft(String(row.members), 7),
        padRight(row.status, 7),
        describeMutation(row.mutation, row.mutationDetail),
      ].join('  '),
    );
  }
  const lrs = best.tasks.map((t) => `${t.task} ${formatLr(t.lr)}`).join(', ');
  out.push('');
  if (lrs) out.push(`best learning rates (learningRate) of #${best.id}: ${lrs}`);
  out.push(`see a program with: optevo show ${r.run.name}${dirFlag} --program ${best.id}`);
  return out.join('\n');
}
