/**
 * The dashboard's timers and subscriptions, kept out of its components.
 */
import { useEffect, useRef, useState } from 'react';
import { useStdout } from 'ink';
import type { SearchEvent, SearchStats } from '../../search/types.js';
import type { SearchSource } from './source.js';
import { initialState, reduceAll, refreshStats, type DashboardState, type InitialState } from './state.js';

/**
 * The dashboard state from the search's events. Events are queued as they
 * arrive and applied in one batch every `flushMs`, so a burst of children
 * costs one render, and renders are at most 1000/flushMs a second.
 */
export function useSearchState(
  source: SearchSource,
  init: InitialState | undefined,
  flushMs: number,
  now: () => number,
  poll?: () => SearchStats,
  pollMs = 1000,
): DashboardState {
  const [state, setState] = useState<DashboardState>(() => initialState(init, now()));
  const queue = useRef<SearchEvent[]>([]);
  useEffect(() => {
    const unsubscribe = source.subscribe((e) => {
      queue.current.push(e);
    });
    const timer = setInterval(() => {
      if (queue.current.length === 0) return;
      const batch = queue.current;
      queue.current = [];
      setState((s) => reduceAll(s, batch, now()));
    }, flushMs);
    return () => {
      clearInterval(timer);
      if (typeof unsubscribe === 'function') unsubscribe();
    };
  }, [source, flushMs, now]);
  useEffect(() => {
    if (!poll) return;
    const timer = setInterval(() => {
      let stats: SearchStats;
      try {
        stats = poll();
      } catch {
        return;
      }
      setState((s) => refreshStats(s, stats, now()));
    }, pollMs);
    return () => clearInterval(timer);
  }, [poll, pollMs, now]);
  return state;
}

/** The clock, re-read every `intervalMs` while `active` (for the elapsed time and ETA). */
export function useClock(now: () => number, intervalMs: number, active: boolean): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setT(now()), intervalMs);
    return () => clearInterval(timer);
  }, [now, intervalMs, active]);
  return t;
}

/** The terminal's size, following resizes; `override` wins (tests, fixed layouts). */
export function useTerminalSize(override?: { columns?: number | undefined; rows?: number | undefined }): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout]);
  return { columns: override?.columns ?? size.columns, rows: override?.rows ?? size.rows };
}
