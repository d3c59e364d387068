/**
 * Committing a judged child, as a pure function: the run's state before, the
 * child's record and the settings in; the state after, what to write and what
 * to tell watchers out. It owns the counters, the population (regularized
 * evolution: the oldest leaves), restarts, the best program and the
 * meta-validation picks. Nothing here reads a clock, a store or a random
 * stream, so the engine's bookkeeping is tested by feeding records and
 * comparing states and events.
 */
import type { SearchConfig } from './config.js';
import { addMember } from './population.js';
import { beats, heldFitness } from './selection.js';
import type { Commit } from './run-store.js';
import type { ChildRecord, Counters, Member } from './types.js';

/**
 * A candidate for meta-validation: an `ok` child and its held fitness (the
 * lower of its fitness and its re-evaluation on a fresh seed, where it has
 * one), so that a program whose score a fresh seed showed to be noise does
 * not take the funnel's place or meta-validation's share.
 */
export interface Leader {
  id: number;
  fitness: number;
}

/** A child's fitness on its re-evaluation (a fresh seed), where it has one. */
function reevalFitness(rec: { reeval?: { fitness: number | null } | null }): number | null {
  return rec.reeval && isScore(rec.reeval.fitness) ? rec.reeval.fitness : null;
}

/** A committed `ok` child as a leader: ranked by its held fitness. */
export function leaderOf(rec: { id: number; fitness: number; reeval?: { fitness: number | null } | null }): Leader {
  return { id: rec.id, fitness: heldFitness(rec.fitness, reevalFitness(rec)) };
}

export interface RunState {
  readonly counters: Counters;
  /** Oldest first. */
  readonly population: readonly Member[];
  /** The best `ok` children so far, best first (ties: lower id), at most `metavalTop`. */
  readonly leaders: readonly Leader[];
  /** Children ever requested for meta-validation. */
  readonly metavalRequested: ReadonlySet<number>;
}

/**
 * The settings a commit depends on (`seeds` only for how many there are), and
 * what the run measured: the suite's noise, and whether would-be bests are
 * re-evaluated on a fresh seed (`calibrated`; search/selection.ts).
 */
export type CommitConfig = Pick<SearchConfig, 'population' | 'restartAfter' | 'metavalEvery' | 'metavalTop' | 'seeds'> & {
  noise?: number;
  calibrated?: boolean;
};

/** What a commit tells watchers, in this order. */
export type CommitEvent =
  | { type: 'child'; child: ChildRecord }
  | { type: 'best'; child: ChildRecord }
  | { type: 'log'; level: 'info'; message: string };

export interface CommitEffects {
  /** The one atomic write of this commit. */
  commit: Commit;
  /** Children to meta-validate now (the same as `commit.metaval`). */
  metaval: readonly number[];
}

export interface Committed {
  state: RunState;
  effects: CommitEffects;
  events: CommitEvent[];
}

/** The counters with one more child of this status. */
function counted(c: Counters, rec: ChildRecord): Counters {
  const next: Counters = { ...c, committed: rec.id };
  switch (rec.status) {
    case 'ok':
      next.ok++;
      break;
    case 'pruned':
      next.pruned++;
      break;
    case 'cached':
      next.cached++;
      break;
    case 'invalid':
      next.invalid++;
      break;
    case 'failed':
      next.failed++;
      break;
    default: {
      const never: never = rec;
      throw new Error(`unknown status ${String((never as ChildRecord).status)}`);
    }
  }
  return next;
}

/** The leaders with an `ok` child added in its place (it has the highest id, so it goes after equal fitness). */
export function withLeader(leaders: readonly Leader[], l: Leader, top: number): Leader[] {
  const at = leaders.findIndex((x) => x.fitness < l.fitness);
  const next = at < 0 ? [...leaders, l] : [...leaders.slice(0, at), l, ...leaders.slice(at)];
  return next.slice(0, top);
}

export function commitChild(state: RunState, rec: ChildRecord, config: CommitConfig): Committed {
  if (rec.id !== state.counters.committed + 1) throw new Error(`internal: commit of child ${rec.id} after ${state.counters.committed}`);
  const id = rec.id;
  let c = counted(state.counters, rec);

  // Population: every child with a fitness joins (cached ones too); the oldest leaves.
  let pop: readonly Member[] = state.population;
  let removed: Member[] = [];
  let added: Member[] = [];
  if (rec.fitness !== null && (rec.status === 'ok' || rec.status === 'pruned' || rec.status === 'cached')) {
    const m = { id, fitness: rec.fitness, addedAt: id };
    const r = addMember(pop, m, config.population);
    pop = r.pop;
    removed = r.removed;
    added = [m];
  }

  // The best program: a cached copy is not an improvement, nor a program that drifts. Past the
  // seeds, a calibrated run's new best beats the held best by more than the noise and holds
  // on a fresh seed (search/selection.ts).
  let improved = false;
  const held0 = c.bestHeld ?? c.bestFitness;
  if (rec.fitness !== null && rec.status !== 'cached' && !driftOf(rec)) {
    const seed = id <= config.seeds.length;
    const calibrated = config.calibrated === true && held0 !== null && !seed;
    const again = reevalFitness(rec);
    const held = heldFitness(rec.fitness, again);
    if ((!calibrated || again !== null) && beats(held, held0, seed ? 0 : (config.noise ?? 0))) {
      c = { ...c, bestFitness: rec.fitness, bestHeld: held, bestId: id, lastImprovement: id };
      improved = true;
    }
  }

  // Restart: after `restartAfter` children without improvement the population becomes the best program alone.
  let restartFrom: number | null = null;
  if (config.restartAfter > 0 && id > config.seeds.length && c.bestId !== null && id - c.lastImprovement >= config.restartAfter) {
    restartFrom = c.bestId;
    removed = [...removed, ...pop.filter((m) => !added.includes(m))];
    const m = { id: c.bestId, fitness: c.bestFitness!, addedAt: id };
    pop = [m];
    added = [m];
    c = { ...c, lastImprovement: id, restarts: c.restarts + 1 };
  }

  const leaders = rec.status === 'ok' ? withLeader(state.leaders, leaderOf(rec), config.metavalTop) : state.leaders;
  const metaval: number[] = [];
  let metavalRequested = state.metavalRequested;
  if (config.metavalEvery > 0 && id % config.metavalEvery === 0) {
    for (const l of leaders) if (!metavalRequested.has(l.id)) metaval.push(l.id);
    if (metaval.length) metavalRequested = new Set([...metavalRequested, ...metaval]);
  }

  const events: CommitEvent[] = [{ type: 'child', child: rec }];
  if (improved) events.push({ type: 'best', child: rec });
  if (restartFrom !== null)
    events.push({ type: 'log', level: 'info', message: `restart from child ${restartFrom} after ${config.restartAfter} children without improvement` });

  return {
    state: { counters: c, population: pop, leaders, metavalRequested },
    effects: {
      commit: { child: rec, add: added.map((m) => ({ id: m.id, fitness: m.fitness })), remove: removed.map((m) => m.id), counters: c, metaval },
      metaval,
    },
    events,
  };
}

/** The evaluator's constant-drift flag on a child's results, if any. */
export function driftOf(rec: ChildRecord): string | undefined {
  return rec.standard?.drift ?? rec.quick?.drift;
}

function isScore(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
