import { Box, Text } from 'ink';
import { colorProp } from './color.js';
import type { EvalProgress } from '../../search/types.js';
import { formatTimeShares, type WorkerTime } from '../../search/worker-time.js';
import { budgetProgress, formatDuration, formatFitness, formatInProgress, formatRate, progressBar } from '../format.js';

export type RunPhase = 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'done' | 'stopped';

export interface HeaderProps {
  run: string;
  resumed: boolean;
  phase: RunPhase;
  elapsedMs: number;
  judged: number;
  budget: number;
  /** Children judged per second. */
  rate: number;
  cached: number;
  pruned: number;
  failed: number;
  invalid: number;
  workersBusy: number;
  workers: number;
  bestFitness: number | null;
  bestId: number | null;
  width: number;
  /** The wall-clock budget (`--time`), if any: progress and ETA follow whichever budget ends first. */
  timeMs?: number | undefined;
  workerTime?: WorkerTime | undefined;
  noise?: number | null | undefined;
  /** Evaluations under way: shown while nothing has been committed yet (the first minute). */
  inProgress?: EvalProgress[] | undefined;
}

const PHASE_COLOR: Record<RunPhase, string> = {
  starting: 'gray',
  running: 'green',
  pausing: 'yellow',
  paused: 'yellow',
  stopping: 'yellow',
  done: 'cyan',
  stopped: 'cyan',
};

const PHASE_LABEL: Record<RunPhase, string> = {
  starting: 'starting',
  running: 'running',
  pausing: 'pausing…',
  paused: 'paused',
  stopping: 'stopping: checkpointing…',
  done: 'done',
  stopped: 'stopped (resumable)',
};

/** Three lines: the run and its state; progress with ETA; throughput and counters. */
export function Header(p: HeaderProps) {
  const bp = budgetProgress({ judged: p.judged, budget: p.budget, rate: p.rate, elapsedMs: p.elapsedMs, timeMs: p.timeMs });
  const fraction = bp.fraction;
  const left = bp.etaMs;
  const counts = `${bp.counts} ${Math.floor(fraction * 100)}%`;
  const etaText = p.phase === 'done' ? 'done' : `ETA ${left === null || p.phase === 'paused' ? '-' : formatDuration(left)}`;
  const barWidth = Math.max(5, p.width - counts.length - etaText.length - 4);
  const best = p.bestId === null ? 'best -' : `best ${formatFitness(p.bestFitness)} #${p.bestId}`;
  return (
    <Box flexDirection="column" width={p.width}>
      <Text wrap="truncate">
        <Text bold color="cyan">
          optevo
        </Text>{' '}
        <Text bold>{p.run || '(new run)'}</Text>
        {p.resumed ? <Text color="gray"> (resumed)</Text> : null}
        {'  '}
        <Text color={PHASE_COLOR[p.phase]}>● {PHASE_LABEL[p.phase]}</Text>
        {'  '}
        {formatDuration(p.elapsedMs)}
        {'  '}
        <Text color="green">{best}</Text>
      </Text>
      <Text wrap="truncate">
        <Text color="green">{progressBar(fraction, barWidth)}</Text> {counts}  <Text color="gray">{etaText}</Text>
      </Text>
      <Text wrap="truncate">
        <Text bold>{formatRate(p.rate)}</Text> judged  cache <Text bold>{p.cached}</Text>  pruned <Text bold>{p.pruned}</Text>
        {'  '}failed <Text {...colorProp(p.failed > 0 ? 'red' : undefined)} bold>{p.failed}</Text>  invalid {p.invalid}  workers{' '}
        <Text bold>
          {p.workersBusy}/{p.workers}
        </Text>{' '}
        busy
      </Text>
      {p.workerTime || (p.noise !== null && p.noise !== undefined) ? (
        <Text wrap="truncate" color="gray">
          {p.workerTime ? `worker time: ${formatTimeShares(p.workerTime)}` : ''}
          {p.noise !== null && p.noise !== undefined ? `  noise ±${formatFitness(p.noise)}` : ''}
        </Text>
      ) : null}
      {p.judged === 0 && p.inProgress && p.inProgress.length > 0
        ? p.inProgress.map((e, i) => (
            <Text key={i} wrap="truncate" color="gray">
              evaluating {formatInProgress(e)}
            </Text>
          ))
        : null}
    </Box>
  );
}
