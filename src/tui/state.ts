/**
 * The dashboard's model: a pure reducer from the search's event stream to what
 * the screen shows. The container feeds it batches of events; the leaf
 * components read slices of it. No React and no clock in here: the time of
 * each batch is passed in.
 */
import { rankedTasks, type ChildRecord, type DoneReason, type LogLevel, type SearchEvent, type SearchStats } from '../../search/types.js';
import { budgetText, describeMutation, formatDuration, formatFitness } from '../format.js';

/** How many leaders, event lines and best points the dashboard keeps. */
export const LEADER_CAP = 200;
export const EVENT_CAP = 200;
export const HISTORY_CAP = 2000;

export type EventLevel = LogLevel | 'best';

export interface EventLine {
  /** Unique, increasing: the React key. */
  key: number;
  /** Local clock (ms) when the event arrived. */
  at: number;
  level: EventLevel;
  text: string;
  worker?: number;
}

export interface BestPoint {
  /** Children judged when this best was reached. */
  judged: number;
  fitness: number;
}

export interface DashboardState {
  run: string;
  resumed: boolean;
  budget: number;
  workers: number;
  stats: SearchStats | null;
  /** Local clock (ms) when `stats` arrived: the header extrapolates elapsed time from it. */
  statsAt: number;
  /**
   * Trained children ('ok' and 'pruned') by fitness, best first, ties by id:
   * one per family (programs that differ only in constants), its best member,
   * so that the top rows are different ideas, not one idea's constants.
   */
  leaders: readonly ChildRecord[];
  /** Task names in the order first seen in standard-suite results: the leaderboard's columns. */
  taskNames: readonly string[];
  /** Highest child id seen: the reference for a leader's age. */
  lastId: number;
  best: ChildRecord | null;
  /** Best fitness over the run, one point per improvement; the chart draws it as steps up to `stats.judged`. */
  history: readonly BestPoint[];
  /** Recent notable events, oldest first. */
  events: readonly EventLine[];
  /** New bests, oldest first: finished rows that the dashboard prints once, above itself. */
  bests: readonly EventLine[];
  nextKey: number;
  paused: boolean;
  finished: null | DoneReason;
}

export interface InitialState {
  run?: string;
  budget?: number;
  workers?: number;
  /** Children already in the store (a resumed run): they fill the leaderboard before any event. */
  children?: readonly ChildRecord[];
  /** The best fitness so far, by children judged (a resumed run). */
  history?: readonly BestPoint[];
  /** The counters so far (a resumed run). */
  stats?: SearchStats;
}

export function initialState(init: InitialState = {}, now = 0): DashboardState {
  let s: DashboardState = {
    run: init.run ?? '',
    resumed: false,
    budget: init.budget ?? 0,
    workers: init.workers ?? 0,
    stats: init.stats ?? null,
    statsAt: now,
    leaders: [],
    taskNames: [],
    lastId: -1,
    best: null,
    history: [],
    events: [],
    bests: [],
    nextKey: 0,
    paused: false,
    finished: null,
  };
  for (const c of init.children ?? []) s = addChild(s, c);
  const best = s.leaders[0];
  if (best) s = { ...s, best };
  if (init.history && init.history.length > 0) s = { ...s, history: init.history.slice(-HISTORY_CAP) };
  else if (best) s = { ...s, history: [{ judged: init.stats?.judged ?? 0, fitness: best.fitness as number }] };
  if (init.stats) s = { ...s, lastId: Math.max(s.lastId, init.stats.judged) };
  return s;
}

/** Ranks two children: higher fitness first, then lower id. */
export function compareChildren(a: ChildRecord, b: ChildRecord): number {
  const fa = a.fitness ?? -Infinity;
  const fb = b.fitness ?? -Infinity;
  if (fa !== fb) return fb > fa ? 1 : -1;
  return a.id - b.id;
}

/** Trained programs rank (`ok`, and `pruned` on their quick score), as in the run store's leaderboard; cached copies do not. */
export function isRanked(c: ChildRecord): boolean {
  return (c.status === 'ok' || c.status === 'pruned') && c.fitness !== null && Number.isFinite(c.fitness);
}

/** The per-task results a child is ranked on: the standard suite if it ran, else the quick one. */

function addChild(s: DashboardState, c: ChildRecord): DashboardState {
  const lastId = Math.max(s.lastId, c.id);
  let taskNames = s.taskNames;
  for (const t of rankedTasks(c)) {
    if (!taskNames.includes(t.task)) taskNames = [...taskNames, t.task];
  }
  if (!isRanked(c)) return { ...s, lastId, taskNames };
  const kin = c.family === undefined ? undefined : s.leaders.find((x) => x.family === c.family && x.id !== c.id);
  if (kin && compareChildren(kin, c) < 0) return { ...s, lastId, taskNames };
  const rest = s.leaders.filter((x) => x.id !== c.id && x !== kin);
  const worst = rest.length >= LEADER_CAP ? rest[rest.length - 1] : undefined;
  if (worst && compareChildren(c, worst) > 0) return { ...s, lastId, taskNames };
  // Insert in order: the list is short and sorted.
  const after = rest.findIndex((x) => compareChildren(x, c) >= 0);
  const i = after < 0 ? rest.length : after;
  const leaders = [...rest.slice(0, i), c, ...rest.slice(i)].slice(0, LEADER_CAP);
  return { ...s, lastId, taskNames, leaders };
}

function pushEvent(s: DashboardState, now: number, level: EventLevel, text: string, worker?: number): DashboardState {
  const line: EventLine = { key: s.nextKey, at: now, level, text, ...(worker === undefined ? {} : { worker }) };
  const events = s.events.length >= EVENT_CAP ? [...s.events.slice(1), line] : [...s.events, line];
  return { ...s, events, nextKey: s.nextKey + 1 };
}

/** One line describing a child: `#42 0.123 (modify s3: sqrt -> cbrt)`. */
export function describeChild(c: ChildRecord): string {
  return `#${c.id} ${formatFitness(c.fitness)} (${describeMutation(c.mutation, c.mutationDetail)})`;
}

export function reduce(s: DashboardState, e: SearchEvent, now: number): DashboardState {
  switch (e.type) {
    case 'start': {
      const text = `${e.resumed ? 'resumed' : 'started'} ${e.run}: ${budgetText(e.budget)}, ${e.workers} workers`;
      return pushEvent(
        { ...s, run: e.run, resumed: e.resumed, budget: e.budget, workers: e.workers, statsAt: now, finished: null, paused: false },
        now,
        'info',
        text,
      );
    }
    case 'child': {
      let next = addChild(s, e.child);
      // A polled snapshot (refreshStats) may be newer than a queued event's.
      const stats = s.stats && s.stats.judged > e.stats.judged ? s.stats : e.stats;
      next = { ...next, stats, statsAt: now, budget: stats.budget, workers: stats.workers };
      if (e.child.status === 'failed') {
        next = pushEvent(next, now, 'warn', `#${e.child.id} failed: ${e.child.failure ?? 'unknown reason'}`);
      }
      return next;
    }
    case 'best': {
      const c = e.child;
      const judged = s.stats?.judged ?? 0;
      const line: EventLine = { key: s.nextKey, at: now, level: 'best', text: `new best ${describeChild(c)}` };
      let history = s.history;
      if (c.fitness !== null && Number.isFinite(c.fitness)) {
        const last = history[history.length - 1];
        const point = { judged, fitness: c.fitness };
        history = last && last.judged === judged ? [...history.slice(0, -1), point] : [...history, point];
        if (history.length > HISTORY_CAP) history = history.slice(history.length - HISTORY_CAP);
      }
      const withChild = addChild(s, c);
      const events = withChild.events.length >= EVENT_CAP ? [...withChild.events.slice(1), line] : [...withChild.events, line];
      return { ...withChild, best: c, history, events, bests: [...s.bests, line], nextKey: s.nextKey + 1 };
    }
    case 'metaval': {
      const leaders = s.leaders.map((c) => (c.id === e.id ? { ...c, metaval: e.fitness } : c));
      const best = s.best && s.best.id === e.id ? { ...s.best, metaval: e.fitness } : s.best;
      return pushEvent({ ...s, leaders, best }, now, 'info', `meta-validated #${e.id}: ${formatFitness(e.fitness)}`);
    }
    case 'log':
      return pushEvent(s, now, e.level, e.message, e.worker);
    case 'paused':
      return pushEvent({ ...s, paused: true }, now, 'info', 'paused');
    case 'resumed':
      return pushEvent({ ...s, paused: false, statsAt: now }, now, 'info', 'resumed');
    case 'done': {
      const text =
        e.reason === 'budget'
          ? `done: budget of ${e.stats.budget} reached`
          : e.reason === 'time'
            ? `done: time budget of ${formatDuration(e.stats.timeMs ?? e.stats.elapsedMs)} reached`
            : 'stopped: checkpointed, resumable';
      return pushEvent({ ...s, stats: e.stats, statsAt: now, finished: e.reason, paused: false }, now, 'info', text);
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

/**
 * The counters read from the search between events (busy workers, rate and
 * elapsed time move while a long evaluation runs). Never goes back.
 */
export function refreshStats(s: DashboardState, stats: SearchStats, now: number): DashboardState {
  if (s.finished || s.paused) return s;
  if (s.stats && stats.judged < s.stats.judged) return s;
  return { ...s, stats, statsAt: now, budget: stats.budget, workers: stats.workers };
}

export function reduceAll(s: DashboardState, events: readonly SearchEvent[], now: number): DashboardState {
  let next = s;
  for (const e of events) next = reduce(next, e, now);
  return next;
}

/** Elapsed run time now: the last reported value, advanced by the local clock while running. */
export function elapsedNow(s: DashboardState, now: number): number {
  const base = s.stats?.elapsedMs ?? 0;
  if (s.paused || s.finished) return base;
  return base + Math.max(0, now - s.statsAt);
}
