/**
 * A running search, as its watchers see it: the dashboard, the plain progress
 * reporter and tests hold one of these and nothing else.
 *
 *   const handle = startSearch(...);           // src/cli/search.ts: runSearch(...)
 *   const off = handle.subscribe((e) => ...);  // every SearchEvent from now on
 *   handle.pause(); handle.resume();            // stop / restart handing out evaluations
 *   await handle.stop();                        // commit what is finished, end the run
 *   const stats = await handle.done;            // resolves when the run ends, however it ends
 *
 * The search starts on the next turn of the event loop, so a subscriber added
 * right after `startSearch` sees the `start` event.
 */
import type { LogLevel, SearchListener, SearchStats } from './types.js';

export interface SearchHandle {
  /** The run's name and directory. */
  readonly run: string;
  readonly dir: string;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: SearchListener): () => void;
  /** No new evaluation starts until `resume`; running ones finish and are committed. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /**
   * Ends the run early: children already evaluated are committed in id order,
   * evaluations still running are abandoned (a resume redoes them exactly),
   * and `done` resolves. Resolves once everything is written.
   */
  stop(): Promise<void>;
  /**
   * Reports a line from outside the loop (the executor's workers): subscribers
   * get a `log` event; warnings and errors are also kept in the run's log.
   */
  log(level: LogLevel, message: string, worker?: number): void;
  /** The counters right now. */
  stats(): SearchStats;
  /** Resolves with the final counters when the run ends (budget reached or stopped); rejects on an internal fault. */
  readonly done: Promise<SearchStats>;
}
