/**
 * The container: owns the dashboard state (from the search's events) and the
 * little UI state (selection, expansion, what the user asked for), maps keys
 * to the search's pause/resume/stop, and lays out the pure leaf components.
 */
import { useEffect, useReducer, useRef } from 'react';
import { Box, Static, Text, useInput, useStdin } from 'ink';
import type { Key } from 'ink';
import type { ChildRecord, DoneReason, SearchStats } from '../../search/types.js';
import { EventLog } from './EventLog.js';
import { FitnessChart } from './FitnessChart.js';
import { Header, type RunPhase } from './Header.js';
import { Leaderboard } from './Leaderboard.js';
import { ProgramView } from './ProgramView.js';
import { useClock, useSearchState, useTerminalSize } from './hooks.js';
import { computeLayout, type Layout } from './layout.js';
import type { SearchSource } from './source.js';
import { elapsedNow, type DashboardState, type InitialState } from './state.js';

export interface DashboardProps {
  source: SearchSource;
  initial?: InitialState;
  /** Batch interval: at most 1000/flushMs renders a second. */
  flushMs?: number;
  now?: () => number;
  /** Fixed size instead of the terminal's (tests). */
  columns?: number;
  rows?: number;
  /** The user asked to quit (q or Ctrl-C): the search has been told to stop. */
  onQuit?: () => void;
  /** The user asked to quit again while the search was stopping. */
  onForceQuit?: () => void;
  /** Keys work only with raw mode; `undefined` asks the terminal. */
  interactive?: boolean;
  /** Reads the search's counters between events (busy workers, rate), once a second. */
  pollStats?: () => SearchStats;
  /** The end of the search (its `done` event) has been drawn. */
  onFinishedShown?: (reason: DoneReason) => void;
}

export interface UiState {
  /** The selected program; null follows the best. */
  selectedId: number | null;
  expanded: boolean;
  /** What the user asked the search for, until the search confirms. */
  requested: 'pause' | 'resume' | 'stop' | null;
}

export type UiAction =
  | { type: 'move'; delta: number; leaders: readonly ChildRecord[] }
  | { type: 'top' }
  | { type: 'toggleExpand'; leaders: readonly ChildRecord[] }
  | { type: 'follow' }
  | { type: 'request'; what: 'pause' | 'resume' | 'stop' };

export function selectedIndex(ui: UiState, leaders: readonly ChildRecord[]): number {
  if (leaders.length === 0) return -1;
  if (ui.selectedId === null) return 0;
  const i = leaders.findIndex((c) => c.id === ui.selectedId);
  return i < 0 ? 0 : i;
}

export function uiReducer(ui: UiState, a: UiAction): UiState {
  switch (a.type) {
    case 'move': {
      if (a.leaders.length === 0) return ui;
      const i = Math.min(a.leaders.length - 1, Math.max(0, selectedIndex(ui, a.leaders) + a.delta));
      const target = a.leaders[i];
      return target ? { ...ui, selectedId: target.id } : ui;
    }
    case 'top':
      return { ...ui, selectedId: null };
    case 'toggleExpand': {
      const pinned = ui.selectedId ?? a.leaders[selectedIndex(ui, a.leaders)]?.id ?? null;
      return { ...ui, selectedId: pinned, expanded: !ui.expanded };
    }
    case 'follow':
      return { ...ui, selectedId: null, expanded: false };
    case 'request':
      return { ...ui, requested: a.what };
    default: {
      const never: never = a;
      return never;
    }
  }
}

export function phaseOf(s: DashboardState, requested: UiState['requested']): RunPhase {
  if (s.finished === 'budget' || s.finished === 'time') return 'done';
  if (s.finished === 'stopped') return 'stopped';
  if (requested === 'stop') return 'stopping';
  if (s.paused) return requested === 'resume' ? 'running' : 'paused';
  if (requested === 'pause') return 'pausing';
  return s.stats || s.run ? 'running' : 'starting';
}

function footerText(phase: RunPhase, expanded: boolean): string {
  if (phase === 'done' || phase === 'stopped') return 'search finished · ↑↓ select · enter expand · q quit';
  if (phase === 'stopping') return 'stopping: finishing evaluations and checkpointing · Ctrl-C again to force';
  const pause = phase === 'paused' || phase === 'pausing' ? 'p resume' : 'p pause';
  return `↑↓ select · enter ${expanded ? 'collapse' : 'expand'} · esc follow best · ${pause} · q quit`;
}

const defaultNow = () => Date.now();

export function Dashboard(props: DashboardProps) {
  const now = props.now ?? defaultNow;
  const state = useSearchState(props.source, props.initial, props.flushMs ?? 100, now, props.pollStats);
  const [ui, dispatch] = useReducer(uiReducer, { selectedId: null, expanded: false, requested: null });
  const phase = phaseOf(state, ui.requested);
  const t = useClock(now, 1000, phase === 'running' || phase === 'starting' || phase === 'stopping');
  const size = useTerminalSize({ columns: props.columns, rows: props.rows });
  const layout = computeLayout(size.columns, size.rows);
  const { isRawModeSupported } = useStdin();
  const { onFinishedShown } = props;
  useEffect(() => {
    if (state.finished) onFinishedShown?.(state.finished);
  }, [state.finished, onFinishedShown]);
  const interactive = props.interactive ?? isRawModeSupported === true;
  useDashboardKeys({ state, ui, dispatch, props, interactive, pageRows: layout.leaderboard.height });

  return (
    <>
      <BestLines bests={state.bests} />
      <Box flexDirection="column" width={layout.width}>
        <RunHeader state={state} phase={phase} elapsedMs={elapsedNow(state, t)} width={layout.width} />
        <Panels state={state} ui={ui} layout={layout} />
        <Text color="gray" wrap="truncate">
          {interactive ? footerText(phase, ui.expanded) : 'keys need an interactive terminal · Ctrl-C stops'}
        </Text>
      </Box>
    </>
  );
}

/**
 * Maps keys to the UI reducer and to the search's pause, resume and stop.
 * Handlers read the latest values through a ref: a key can arrive after a
 * render and before React re-subscribes the handler.
 */
function useDashboardKeys(k: {
  state: DashboardState;
  ui: UiState;
  dispatch: (a: UiAction) => void;
  props: Pick<DashboardProps, 'source' | 'onQuit' | 'onForceQuit'>;
  interactive: boolean;
  /** Rows a page key moves the selection by. */
  pageRows: number;
}): void {
  const { dispatch, props } = k;
  const latest = useRef({ state: k.state, ui: k.ui });
  latest.current = { state: k.state, ui: k.ui };
  const stopAsked = useRef(false);

  const quit = () => {
    if (latest.current.state.finished) {
      props.onQuit?.();
      return;
    }
    if (stopAsked.current) {
      props.onForceQuit?.();
      return;
    }
    stopAsked.current = true;
    dispatch({ type: 'request', what: 'stop' });
    props.source.stop();
    props.onQuit?.();
  };

  const togglePause = () => {
    const { state: s, ui: u } = latest.current;
    if (s.finished || stopAsked.current) return;
    const pausedNow = u.requested === 'pause' || (s.paused && u.requested !== 'resume');
    const what = pausedNow ? 'resume' : 'pause';
    latest.current = { state: s, ui: { ...u, requested: what } };
    dispatch({ type: 'request', what });
    if (what === 'pause') props.source.pause();
    else props.source.resume();
  };

  useInput(
    (input: string, key: Key) => {
      const leaders = latest.current.state.leaders;
      if (input === 'q' || (key.ctrl && input === 'c')) return quit();
      if (key.upArrow) return dispatch({ type: 'move', delta: -1, leaders });
      if (key.downArrow) return dispatch({ type: 'move', delta: 1, leaders });
      if (key.pageUp) return dispatch({ type: 'move', delta: -k.pageRows, leaders });
      if (key.pageDown) return dispatch({ type: 'move', delta: k.pageRows, leaders });
      if (key.home) return dispatch({ type: 'top' });
      if (key.return) return dispatch({ type: 'toggleExpand', leaders });
      if (key.escape) return dispatch({ type: 'follow' });
      if (input === 'p') togglePause();
    },
    { isActive: k.interactive },
  );
}

/** Each new best, printed once above the live area (it stays in the terminal's scrollback). */
function BestLines(p: { bests: DashboardState['bests'] }) {
  return (
    <Static items={p.bests as EventLineItem[]}>
      {(b) => (
        <Text key={b.key} color="green" wrap="truncate">
          ★ {b.text}
        </Text>
      )}
    </Static>
  );
}

/** The header: the run, its phase and progress, and the latest counters (or what is known before any). */
function RunHeader(p: { state: DashboardState; phase: RunPhase; elapsedMs: number; width: number }) {
  const { state } = p;
  const stats = state.stats;
  return (
    <Header
      run={state.run}
      resumed={state.resumed}
      phase={p.phase}
      elapsedMs={p.elapsedMs}
      judged={stats?.judged ?? 0}
      budget={state.budget}
      rate={stats?.rate ?? 0}
      cached={stats?.cached ?? 0}
      pruned={stats?.pruned ?? 0}
      failed={stats?.failed ?? 0}
      invalid={stats?.invalid ?? 0}
      workersBusy={stats?.workersBusy ?? 0}
      workers={state.workers}
      bestFitness={stats?.bestFitness ?? state.best?.fitness ?? null}
      bestId={stats?.bestId ?? state.best?.id ?? null}
      timeMs={stats?.timeMs}
      workerTime={stats?.workerTime}
      noise={stats?.noise}
      inProgress={stats?.inProgress}
      width={p.width}
    />
  );
}

/** The panels: the selected program alone when expanded, else leaderboard, chart, program and events, side by side on a wide terminal. */
function Panels(p: { state: DashboardState; ui: UiState; layout: Layout }) {
  const { state, ui, layout } = p;
  const index = selectedIndex(ui, state.leaders);
  const selected = state.leaders[index] ?? null;
  const program = (panel: { width: number; height: number }) => (
    <ProgramView
      child={selected}
      rank={selected ? index + 1 : null}
      following={ui.selectedId === null}
      expanded={ui.expanded}
      width={panel.width}
      height={panel.height}
    />
  );
  if (ui.expanded) return program(layout.expanded);
  const leaderboard = (
    <Leaderboard
      leaders={state.leaders}
      taskNames={state.taskNames}
      lastId={state.lastId}
      selected={ui.selectedId === null ? -1 : index}
      width={layout.leaderboard.width}
      height={layout.leaderboard.height}
    />
  );
  const chart = (
    <FitnessChart history={state.history} judged={state.stats?.judged ?? 0} width={layout.chart.width} height={layout.chart.height} />
  );
  const events = <EventLog events={state.events} width={layout.events.width} height={layout.events.height} />;
  if (layout.wide) {
    return (
      <Box flexDirection="row">
        <Box flexDirection="column" width={layout.leaderboard.width}>
          {leaderboard}
          {program(layout.program)}
        </Box>
        <Box width={1} />
        <Box flexDirection="column" width={layout.chart.width}>
          {chart}
          {events}
        </Box>
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      {leaderboard}
      <Box flexDirection="row">
        {chart}
        <Box width={1} />
        {program(layout.program)}
      </Box>
      {events}
    </Box>
  );
}

type EventLineItem = DashboardState['bests'][number];
