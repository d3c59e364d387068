/**
 * The search's progress as plain lines, for logs, pipes, CI and `--no-tui`:
 * one line per notable event and a progress line at most every `everyMs`.
 */
import type { SearchEvent, SearchListener, SearchStats } from '../../search/types.js';
import { eta, formatDuration, formatFitness, formatRate } from './format.js';
import { describeChild } from './state.js';

export interface PlainReporterOptions {
  /** Where lines go (without newline). */
  write: (line: string) => void;
  /** Least time between two progress lines. */
  everyMs?: number;
  now?: () => number;
  /** How to name the run in the resume and inspect hints (default: its name). */
  runRef?: string;
}

export function progressLine(s: SearchStats): string {
  const width = String(s.budget).length;
  const left = eta(s.judged, s.budget, s.rate);
  const best = s.bestId === null ? 'best -' : `best ${formatFitness(s.bestFitness)} (#${s.bestId})`;
  return (
    `[${String(s.judged).padStart(width)}/${s.budget}] ${best}  ${formatRate(s.rate)}  ` +
    `cached ${s.cached}  pruned ${s.pruned}  failed ${s.failed}  invalid ${s.invalid}  ` +
    `elapsed ${formatDuration(s.elapsedMs)}  eta ${left === null ? '-' : formatDuration(left)}`
  );
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
        opts.write(`${e.resumed ? 'resumed' : 'started'} run ${e.run}: budget ${e.budget}, ${e.workers} worker${e.workers === 1 ? '' : 's'}`);
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
        opts.write(`${how}: ${e.stats.judged}/${e.stats.budget} judged in ${formatDuration(e.stats.elapsedMs)}, ${best}`);
        const ref = opts.runRef ?? run;
        if (e.reason === 'stopped' && ref) opts.write(`resume with: optevo search --resume ${ref}`);
        if (e.stats.bestId !== null && ref) opts.write(`inspect with: optevo show ${ref} --program ${e.stats.bestId}`);
        return;
      }
      default: {
        const never: never = e;
        return never;
      }
    }
  };
}
