/**
 * The search's progress as plain lines, for logs, pipes, CI and `--no-tui`:
 * one line per notable event and a progress line at most every `everyMs`.
 */
import type { SearchEvent, SearchListener, SearchStats } from '../../search/types.js';
import { formatTimeShares } from '../../search/worker-time.js';
import { budgetProgress, budgetText, formatDuration, formatFitness, formatInProgress, formatRate, judgedOf } from '../format.js';
import { describeChild } from './state.js';
import { shellQuote } from '../cli/shell-quote.js';

export interface PlainReporterOptions {
  /** Where lines go (without newline). */
  write: (line: string) => void;
  /** Least time between two progress lines (default 2 s). */
  everyMs?: number | undefined;
  now?: () => number;
  /** How to name the run in the resume and inspect hints (default: its name). */
  runRef?: string;
}

export function progressLine(s: SearchStats): string {
  const p = budgetProgress(s);
  const counts = s.timeMs === undefined ? `${String(s.judged).padStart(String(s.budget).length)}/${s.budget}` : p.counts;
  const best = s.bestId === null ? 'best -' : `best ${formatFitness(s.bestFitness)} (#${s.bestId})`;
  const noise = s.noise === null || s.noise === undefined ? '' : `  noise ±${formatFitness(s.noise)}`;
  const time = s.workerTime ? `  workers: ${formatTimeShares(s.workerTime)}` : '';
  return (
    `[${counts}] ${best}${noise}  ${formatRate(s.rate)}  ` +
    `cached ${s.cached}  pruned ${s.pruned}  failed ${s.failed}  invalid ${s.invalid}  ` +
    `elapsed ${formatDuration(s.elapsedMs)}  eta ${p.etaMs === null ? '-' : formatDuration(p.etaMs)}${time}`
  );
}

/** `evaluating: #3 quick mnist8-mlp lr 1e-4…0.316 step 40/150 (6s); reference ...` */
export function inProgressLine(s: SearchStats): string | null {
  const ps = s.inProgress ?? [];
  return ps.length === 0 ? null : `evaluating: ${ps.map(formatInProgress).join('; ')}`;
}

/** A listener that writes the events as lines. */
export function createPlainReporter(opts: PlainReporterOptions): SearchListener {
  const everyMs = opts.everyMs ?? 2000;
  const now = opts.now ?? Date.now;
  let lastProgress = -Infinity;
  let run = '';
  return (e: SearchEvent) => {
    switch (e.type) {
      case 'start':
        run = e.run;
        opts.write(`${e.resumed ? 'resumed' : 'started'} run ${e.run}: ${budgetText(e.budget)}, ${e.workers} worker${e.workers === 1 ? '' : 's'}`);
        return;
      case 'child': {
        if (e.child.status === 'failed') opts.write(`child #${e.child.id} failed: ${e.child.failure ?? 'unknown reason'}`);
        const t = now();
        if (t - lastProgress >= everyMs || e.stats.judged >= e.stats.budget) {
          lastProgress = t;
          opts.write(progressLine(e.stats));
        }
        return;
      }
      case 'best':
        opts.write(`new best ${describeChild(e.child)}`);
        return;
      case 'metaval':
        opts.write(`meta-validated #${e.id}: ${formatFitness(e.fitness)}`);
        return;
      case 'log':
        opts.write(`${e.level === 'info' ? '' : `${e.level}: `}${e.worker === undefined ? '' : `[worker ${e.worker}] `}${e.message}`);
        return;
      case 'paused':
        opts.write('paused');
        return;
      case 'resumed':
        opts.write('resumed');
        return;
      case 'done': {
        const best = e.stats.bestId === null ? 'no best program' : `best #${e.stats.bestId} fitness ${formatFitness(e.stats.bestFitness)}`;
        const how = e.reason === 'stopped' ? 'stopped (checkpointed)' : e.reason === 'time' ? 'done (time budget reached)' : 'done';
        opts.write(`${how}: ${judgedOf(e.stats.judged, e.stats.budget)} judged in ${formatDuration(e.stats.elapsedMs)}, ${best}`);
        const ref = opts.runRef ?? run;
        if (e.reason === 'stopped' && ref) opts.write(`resume with: optevo search --resume ${refArgs(ref)}`);
        if (e.stats.bestId !== null && ref) opts.write(`inspect with: optevo show ${refArgs(ref)} --program ${e.stats.bestId}`);
        return;
      }
      default: {
        const never: never = e;
        return never;
      }
    }
  };
}

/** A run reference as arguments: a path or name, or `NAME --store URL` for a run kept in PostgreSQL. */
function refArgs(ref: string): string {
  const m = /^(\S+) --store (\S+)$/.exec(ref);
  return m ? `${shellQuote(m[1]!)} --store ${shellQuote(m[2]!)}` : shellQuote(ref);
}
