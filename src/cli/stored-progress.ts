/**
 * What a run's store held when the session opened, for the dashboard to show
 * before the first event: a resumed run's leaderboard and best-so-far. The
 * CLI reads it from the store it opened (SQLite or PostgreSQL) before the
 * search starts and hands it to the dashboard, which never opens a store.
 */
import type { Awaitable } from '../../search/run-store.js';
import type { ChildRecord } from '../../search/types.js';
import { LEADER_CAP, type InitialState } from '../tui/state.js';

export type StoredProgress = Pick<InitialState, 'children' | 'history'>;

/** The part of a run store this needs: SQLite's and PostgreSQL's both have it. */
export interface ProgressSource {
  leaderboard(limit: number): Awaitable<ChildRecord[]>;
  bestHistory(): Awaitable<{ id: number; fitness: number }[]>;
}

export async function storedProgress(store: ProgressSource): Promise<StoredProgress> {
  const children = await store.leaderboard(LEADER_CAP);
  const history = (await store.bestHistory()).map((h) => ({ judged: h.id, fitness: h.fitness }));
  return { children, history };
}
