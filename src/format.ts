import { UNLIMITED_CHILDREN } from '../search/config.js';

/** `12/1000`, or `12` in a run bounded by --time alone (whose child budget is no limit). */
export function judgedOf(judged: number, budget: number): string {
  return budget >= UNLIMITED_CHILDREN ? String(judged) : `${judged}/${budget}`;
}

/** `budget 1000`, or `no child limit` in a run bounded by --time alone. */
export function budgetText(budget: number): string {
  return budget >= UNLIMITED_CHILDREN ? 'no child limit' : `budget ${budget}`;
}
import type { EvalProgress } from '../search/types.js';

/**
 * Small pure formatters shared by the dashboard, the plain reporter and the
 * inspection commands. Every function returns a string of a known width when
 * asked to, so that table rows never wrap.
 */
import type { MutationKind } from '../search/types.js';

/** `1:02:03` for an hour or more, else `2:03`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Fitness and scores: 4 significant decimals, `-` when missing, `fail` for a failed score. */
export function formatFitness(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return 'fail';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1);
  return v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3);
}

/** A learning-rate multiplier, compact: `0.003`, `1e-4`, `3`. */
export function formatLr(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v !== 0 && (Math.abs(v) < 1e-2 || Math.abs(v) >= 1e4)) {
    const [m, e] = v.toExponential().split('e');
    const mm = Number(m);
    return `${Number.isInteger(mm) ? mm : mm.toFixed(1)}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(3)));
}

/** Rates: `12.3/s`, `0.42/s`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0/s';
  return `${perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(perSecond >= 1 ? 1 : 2)}/s`;
}

/**
 * Progress against the run's budgets, children and time (whichever ends
 * first): the fraction done, `412/1000` or `412 judged · 4:10 of 30:00`, and
 * the time left (null when unknown).
 */
export function budgetProgress(s: {
  judged: number;
  budget: number;
  rate: number;
  elapsedMs: number;
  timeMs?: number | undefined;
}): { fraction: number; counts: string; etaMs: number | null } {
  const limited = s.budget < UNLIMITED_CHILDREN;
  const byChildren = limited ? eta(s.judged, s.budget, s.rate) : null;
  const byTime = s.timeMs !== undefined ? Math.max(0, s.timeMs - s.elapsedMs) : null;
  const etaMs = byChildren === null ? byTime : byTime === null ? byChildren : Math.min(byChildren, byTime);
  const fraction = Math.max(limited && s.budget > 0 ? s.judged / s.budget : 0, s.timeMs ? s.elapsedMs / s.timeMs : 0);
  const counts =
    s.timeMs === undefined
      ? `${s.judged}/${s.budget}`
      : `${limited ? `${s.judged}/${s.budget}` : `${s.judged} judged`} · ${formatDuration(Math.min(s.elapsedMs, s.timeMs))} of ${formatDuration(s.timeMs)}`;
  return { fraction: Math.min(1, fraction), counts, etaMs };
}

/** `#17 standard mnist-mlp lr 1e-4…0.316 step 120/300 (12s)`; child 0 is the run's reference or noise work. */
export function formatInProgress(p: EvalProgress): string {
  const who = p.childId === 0 ? 'reference' : `#${p.childId}`;
  if (p.task === null) return `${who} ${p.suite} starting (${Math.round(p.ms / 1000)}s)`;
  const lrs = p.lrs.length === 0 ? '' : p.lrs.length === 1 ? ` lr ${formatLr(p.lrs[0])}` : ` lr ${formatLr(Math.min(...p.lrs))}…${formatLr(Math.max(...p.lrs))}`;
  return `${who} ${p.suite} ${p.task}${lrs} step ${p.step}/${p.steps} (${Math.round(p.ms / 1000)}s)`;
}

/** Time left at the current rate; `-` when unknown. */
export function eta(judged: number, budget: number, perSecond: number): number | null {
  const left = budget - judged;
  if (left <= 0) return 0;
  if (!Number.isFinite(perSecond) || perSecond <= 0) return null;
  return (left / perSecond) * 1000;
}

/** A progress bar of exactly `width` cells. */
export function progressBar(fraction: number, width: number): string {
  if (width <= 0) return '';
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const partial = part > 0 ? PARTIAL_BLOCKS[part] : '';
  return ('█'.repeat(full) + partial).padEnd(width, '░');
}

/** Left blocks by eighths: index n is n/8 of a cell. */
const PARTIAL_BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** Cut to `width` characters with an ellipsis; never longer than asked. */
export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  if (width === 1) return '…';
  return s.slice(0, width - 1) + '…';
}

export function padRight(s: string, width: number): string {
  return truncate(s, width).padEnd(width);
}

export function padLeft(s: string, width: number): string {
  return truncate(s, width).padStart(width);
}

/** `12s`, `4m`, `3h`, `2d`: how long ago. */
export function formatAgo(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** A short column label for a task name: `mnist_mlp` -> `mnist_m`. */
export function abbreviate(name: string, width: number): string {
  return name.length <= width ? name : name.slice(0, width);
}

/** How a program was made, for people: `seed adamw`, `modify s3: sqrt -> cbrt`. */
export function describeMutation(mutation: MutationKind, detail: string): string {
  const d = detail.trim();
  if (!d) return mutation;
  if (d.startsWith(mutation)) return d;
  return mutation === 'seed' ? `${mutation} ${d.replace(/^[:\s]+/, '')}` : d;
}
