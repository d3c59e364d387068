/**
 * `optevo show RUN`: the run's summary and its best programs.
 */
import type { SqliteRunInfo as RunInfo, SqliteRunStore } from '../../search/store.js';
import { rankedTasks, sizeOf, trainedText, type ChildRecord, type SearchStats } from '../../search/types.js';
import { describeMutation, formatDuration, formatFitness, formatLr, padLeft, padRight } from '../format.js';
import { formatStart, heldByLiveProcess, type RunSummary } from './runs.js';

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
}

export interface RunReport {
  run: Omit<RunInfo, 'status'> & { status: RunSummary['status'] };
  stats: SearchStats;
  leaderboard: LeaderRow[];
}

export function runReport(store: SqliteRunStore, top: number): RunReport {
  const leaders = store.leaderboard(top);
  const info = store.info();
  return {
    run: { ...info, status: info.status === 'running' && !heldByLiveProcess(info.dir) ? 'interrupted' : info.status },
    stats: store.stats(),
    leaderboard: leaders.map((c, i) => ({
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
  out.push(`run ${r.run.name} (${r.run.status}), started ${formatStart(r.run.createdAt)}, ${s.judged}/${s.budget} judged in ${formatDuration(s.elapsedMs)}`);
  out.push(
    `  best ${s.bestId === null ? '-' : `#${s.bestId} fitness ${formatFitness(s.bestFitness)}`}; trained ${s.trained}, pruned ${s.pruned}, cached ${s.cached}, invalid ${s.invalid}, failed ${s.failed}`,
  );
  out.push(`  ${r.run.dir}`);
  out.push('');
  if (r.leaderboard.length === 0) {
    out.push('no trained program yet');
    return out.join('\n');
  }
  const taskNames: string[] = [];
  for (const row of r.leaderboard) for (const t of row.tasks) if (!taskNames.includes(t.task)) taskNames.push(t.task);
  const rankW = Math.max(2, String(r.leaderboard.length).length);
  const idW = Math.max(2, ...r.leaderboard.map((x) => String(x.id).length));
  const taskW = taskNames.map((t) => Math.max(7, t.length));
  const head = [
    padLeft('#', rankW),
    padLeft('id', idW),
    padLeft('fitness', 8),
    padLeft('metaval', 8),
    ...taskNames.map((t, i) => padLeft(t, taskW[i] as number)),
    padLeft('size', 4),
    padLeft('parent', 6),
    padRight('status', 7),
    'mutation',
  ].join('  ');
  out.push(head);
  for (const row of r.leaderboard) {
    const scores = taskNames.map((t, i) => {
      const x = row.tasks.find((y) => y.task === t);
      return padLeft(x ? formatFitness(x.score) : '-', taskW[i] as number);
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
        padRight(row.status, 7),
        describeMutation(row.mutation, row.mutationDetail),
      ].join('  '),
    );
  }
  const best = r.leaderboard[0] as LeaderRow;
  const lrs = best.tasks.map((t) => `${t.task} ${formatLr(t.lr)}`).join(', ');
  out.push('');
  if (lrs) out.push(`best learning rates (learningRate) of #${best.id}: ${lrs}`);
  out.push(`see a program with: optevo show ${r.run.name}${dirFlag} --program ${best.id}`);
  return out.join('\n');
}
