/**
 * How `optevo search` watches a run: the Ink dashboard on an interactive
 * terminal, plain progress lines anywhere else (a pipe, CI, `--no-tui`).
 *
 *   const stats = await watchSearch(handle, { tui: opts.tui });
 *
 * Both stop the search cleanly on `q` / Ctrl-C (the run is checkpointed and
 * resumable); a second Ctrl-C while it stops exits at once with status 130.
 */
import { createElement } from 'react';
import { render, type Instance } from 'ink';
import type { SearchHandle } from '../../search/handle.js';
import * as path from 'node:path';
import { DEFAULT_RUN_DIR } from '../../search/store.js';
import type { SearchEvent, SearchListener, SearchStats } from '../../search/types.js';
import { Dashboard, type DashboardProps } from './Dashboard.js';
import { createPlainReporter, inProgressLine } from './plain.js';
import type { SearchSource } from './source.js';
import type { InitialState } from './state.js';

/** What the dashboard needs of a handle: `SearchHandle` fits. */
export type WatchedSearch = Pick<SearchHandle, 'run' | 'subscribe' | 'pause' | 'resume' | 'stop' | 'stats' | 'done'> & {
  readonly dir?: string;
};

export type DashboardExit = 'quit' | 'done' | 'forced';

export interface DashboardOptions {
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
  /** What to show before the first event (a resumed run's leaderboard, read by the caller); by default what the handle tells. */
  initial?: InitialState;
  /** Batch interval of events (ms): the dashboard renders at most 1000/flushMs times a second. */
  flushMs?: number;
  /** After the search ends on its own, keep the final screen until the user quits (interactive terminals only). */
  holdOnDone?: boolean;
  /** Listen for SIGINT (default true). */
  handleSignals?: boolean;
  /** Route the main thread's console output above the dashboard (default true). */
  patchConsole?: boolean;
}

/**
 * A source that starts listening at once and replays what arrived before the
 * dashboard subscribed (the search starts on the next turn of the event loop;
 * React's effects may run later than that).
 */
export function bufferedSource(handle: WatchedSearch): SearchSource & { close(): void } {
  let early: SearchEvent[] | null = [];
  let target: SearchListener | null = null;
  const off = handle.subscribe((e) => {
    if (target) target(e);
    else early?.push(e);
  });
  return {
    subscribe(listener) {
      target = listener;
      for (const e of early ?? []) listener(e);
      early = null;
      return () => {
        target = null;
      };
    },
    pause: () => handle.pause(),
    resume: () => handle.resume(),
    stop: () => {
      Promise.resolve(handle.stop()).catch(() => {
        // A failing stop also rejects `done`, which the caller sees.
      });
    },
    close: () => off(),
  };
}

/**
 * The dashboard's starting state as far as the handle tells it (the run's
 * name and counters). A resumed run's leaderboard comes from the store, which
 * the caller reads (src/cli/stored-progress.ts): the dashboard opens none.
 */
export function initialFromHandle(handle: WatchedSearch): InitialState {
  const stats = safe(() => handle.stats());
  return { run: handle.run, ...(stats ? { stats, budget: stats.budget, workers: stats.workers } : {}) };
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

export interface DashboardResult {
  reason: DashboardExit;
  /** The search's final counters, once it has ended (null after a forced quit before the end). */
  stats: SearchStats | null;
}

/**
 * Renders the dashboard for a running search. Resolves when the user quits
 * (`q`, Ctrl-C: the search is stopped and checkpointed first) or, when
 * nobody can press a key, when the search ends. Rejects if the search fails.
 */
export async function runDashboard(handle: WatchedSearch, options: DashboardOptions = {}): Promise<DashboardResult> {
  const stdin = options.stdin ?? process.stdin;
  const interactive = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const flushMs = options.flushMs ?? 100;
  const source = bufferedSource(handle);
  const result = deferred<DashboardResult>();
  // Resolves once the dashboard has drawn the end of the search, so that the
  // last screen left on the terminal says how the run ended.
  const endShown = deferred<void>();

  let finalStats: SearchStats | null = null;
  let searchEnded = false;
  /** `q` or a first Ctrl-C: the search is stopping (or, once it has ended, the user is done with the screen). */
  let quitAsked = false;
  /** How the dashboard ends has been decided (it may still wait to draw the end): later requests are ignored. */
  let decided = false;

  const close = (outcome: () => void) => {
    instance.unmount();
    stopSigint();
    source.close();
    outcome();
  };
  const finish = (reason: DashboardExit) => {
    if (decided) return;
    decided = true;
    const settle = () => close(() => result.resolve({ reason, stats: finalStats }));
    if (reason === 'forced') return settle();
    void Promise.race([endShown.promise, sleep(Math.max(1000, flushMs * 20))]).then(settle);
  };
  const fail = (err: unknown) => {
    if (decided) return;
    decided = true;
    close(() => result.reject(err));
  };
  const onQuit = () => {
    quitAsked = true;
    if (searchEnded) finish('quit');
  };
  const onForceQuit = () => finish('forced');
  const onSigint = () => {
    if (quitAsked) return onForceQuit();
    quitAsked = true;
    source.stop();
  };

  const instance = mountDashboard(source, options, {
    initial: options.initial ?? initialFromHandle(handle),
    flushMs,
    interactive,
    onQuit,
    onForceQuit,
    pollStats: () => handle.stats(),
    onFinishedShown: () => endShown.resolve(),
  });
  const stopSigint = (options.handleSignals ?? true) ? listen('SIGINT', onSigint) : () => {};

  handle.done.then(
    (stats) => {
      finalStats = stats;
      searchEnded = true;
      if (!holdsFinalScreen(options, interactive, quitAsked)) finish(quitAsked ? 'quit' : 'done');
    },
    fail,
  );
  return result.promise;
}

/** After the search ends on its own, an interactive dashboard keeps its last screen until the user quits (unless told not to). */
function holdsFinalScreen(options: DashboardOptions, interactive: boolean, quitAsked: boolean): boolean {
  return (options.holdOnDone ?? true) && interactive && !quitAsked;
}

/** Renders the Ink app: the dashboard's props, and the terminal streams and render settings from the options. */
function mountDashboard(source: SearchSource, options: DashboardOptions, props: Omit<DashboardProps, 'source'>): Instance {
  const flushMs = props.flushMs ?? 100;
  return render(createElement(Dashboard, { source, ...props }), {
    stdout: options.stdout ?? process.stdout,
    stdin: options.stdin ?? process.stdin,
    stderr: options.stderr ?? process.stderr,
    exitOnCtrlC: false,
    patchConsole: options.patchConsole ?? true,
    maxFps: Math.max(1, Math.round(1000 / flushMs)),
    // Ink 6.8's incremental mode misplaces lines after <Static> output
    // (seen in tmux); the standard mode redraws the live area whole, inside
    // synchronized-output markers, at most maxFps times a second.
    incrementalRendering: false,
  });
}

/** Listens for a process signal; returns the function that stops listening. */
function listen(signal: NodeJS.Signals, handler: () => void): () => void {
  process.on(signal, handler);
  return () => void process.off(signal, handler);
}

/** A promise with its resolve and reject at hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (e: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WatchOptions extends DashboardOptions {
  /** false: plain lines even on a terminal (`--no-tui`). */
  tui?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Plain mode: least time between progress lines. */
  everyMs?: number;
}

/** CI sets `CI`; Ink then prints only the last frame, so plain lines serve better there. */
export function shouldUseDashboard(opts: { tui?: boolean; stdout?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv } = {}): boolean {
  const env = opts.env ?? process.env;
  const stdout = opts.stdout ?? process.stdout;
  if (opts.tui === false) return false;
  if (stdout.isTTY !== true) return false;
  if (env['TERM'] === 'dumb') return false;
  const ci = (k: string) => k in env && env[k] !== '0' && env[k] !== 'false';
  return !(ci('CI') || ci('CONTINUOUS_INTEGRATION'));
}

/** Plain progress lines until the search ends; SIGINT stops it cleanly, a second one exits. */
export async function reportPlain(
  handle: WatchedSearch,
  options: { write?: (line: string) => void; everyMs?: number; handleSignals?: boolean } = {},
): Promise<SearchStats> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  // Name the run as `--resume` and `show` will find it: by name under runs/, else by its directory.
  const underDefault = handle.dir !== undefined && path.resolve(handle.dir) === path.resolve(DEFAULT_RUN_DIR, handle.run);
  const runRef = handle.dir === undefined || underDefault ? handle.run : handle.dir;
  let lastLine = Date.now();
  const off = handle.subscribe(createPlainReporter({ write: (l) => ((lastLine = Date.now()), write(l)), everyMs: options.everyMs, runRef }));
  // While nothing is committed (the first minute: references, the seeds), say what the workers are doing.
  const quietMs = Math.max(2000, options.everyMs ?? 5000);
  const ticker = setInterval(() => {
    if (Date.now() - lastLine < quietMs) return;
    let line: string | null = null;
    try {
      line = inProgressLine(handle.stats());
    } catch {
      line = null;
    }
    if (line) {
      lastLine = Date.now();
      write(line);
    }
  }, 1000);
  ticker.unref?.();
  let stopping = false;
  const onSigint = () => {
    if (stopping) {
      write('interrupted');
      process.exit(130);
    }
    stopping = true;
    write('stopping: finishing and checkpointing (Ctrl-C again to quit at once)');
    Promise.resolve(handle.stop()).catch(() => {});
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) process.on('SIGINT', onSigint);
  try {
    return await handle.done;
  } finally {
    clearInterval(ticker);
    if (handleSignals) process.off('SIGINT', onSigint);
    off();
  }
}

/**
 * Watches a search the way the CLI should: the dashboard where it works,
 * plain lines elsewhere. Resolves with the final counters once the search has
 * ended and the screen is restored; a forced quit exits with status 130.
 */
export async function watchSearch(handle: WatchedSearch, options: WatchOptions = {}): Promise<SearchStats> {
  if (!shouldUseDashboard(options)) {
    return reportPlain(handle, options);
  }
  const { reason, stats } = await runDashboard(handle, options);
  if (reason === 'forced') process.exit(130);
  return stats ?? (await handle.done);
}
