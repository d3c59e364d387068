/**
 * Breeding one child: a seed program as it was stored, or a mutation of a
 * tournament winner. Every random choice comes from streams derived from
 * (run seed, child id), and the population and hurdle are those committed
 * after child id - batch, so a child is the same whenever it is bred.
 */
import type { Program } from '../dsl/ast.js';
import { flatten } from '../dsl/flatten.js';
import { parse } from '../dsl/parse.js';
import { print } from '../dsl/print.js';
import { withStateSlots } from '../dsl/state-slots.js';
import type { ProgramCache } from './cache.js';
import type { SearchConfig } from './config.js';
import { hurdleFor, type Hurdle, type HurdleMember } from './hurdle.js';
import type { Bred } from './judge.js';
import type { Mutator } from './mutate.js';
import { tournament } from './population.js';
import type { Preparer } from './prepare.js';
import { Rng } from '../dsl/random.js';
import type { SeedSource } from './run-store.js';
import type { Member } from './types.js';

/** A fault that ends the run with a one-line message (no seed could be trained, ...). */
export class SearchFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchFault';
  }
}

/** A child before preparation: where it came from and its program. */
export interface Offspring {
  id: number;
  parent: number | null;
  mutation: Bred['mutation'];
  detail: string;
  source: string;
  program: Program;
  hurdle: Hurdle | null;
}

export function seedOffspring(id: number, seed: SeedSource, slots: number): Offspring {
  const program = withStateSlots(flatten(parse(seed.source, { file: seed.name })), slots);
  return { id, parent: null, mutation: 'seed', detail: `seed ${seed.name}`, source: print(program), program, hurdle: null };
}

/** Who a child descends from and the hurdle it faces, from the population it is bred from. */
export function chooseParent(
  id: number,
  pop: readonly Member[],
  config: Pick<SearchConfig, 'seed' | 'tournament' | 'hurdle'>,
  scores: (id: number) => HurdleMember,
): { parent: Member; hurdle: Hurdle } {
  if (pop.length === 0) throw new SearchFault('no program could be trained: every seed failed (see the run log)');
  const parent = tournament(pop, config.tournament, Rng.derive(config.seed, 'child', id, 'select'));
  return { parent, hurdle: hurdleFor(pop.map((m) => scores(m.id)), config.hurdle) };
}

export function mutantOffspring(id: number, parent: number, parentSource: string, hurdle: Hurdle, seed: number, mutate: Mutator): Offspring {
  const m = mutate(parse(parentSource), Rng.derive(seed, 'child', id, 'mutate'));
  return { id, parent, mutation: m.kind, detail: m.detail, source: print(m.program), program: m.program, hurdle };
}

/**
 * Checks, simplifies and hashes the child, and looks it up in the cache. A
 * new valid program enters the cache now, not when its score arrives, so a
 * later equivalent child waits for this one's score instead of training the
 * same program twice.
 */
export function prepareOffspring(o: Offspring, prepare: Preparer, cache: ProgramCache): Bred {
  const prepared = prepare(o.program);
  let cachedFrom: number | null = null;
  if (prepared.ok) {
    const hit = cache.lookup(prepared.hash, prepared.fingerprint);
    if (hit !== undefined) cachedFrom = hit;
    else cache.add(o.id, prepared.hash, prepared.fingerprint);
  }
  const { program: _program, ...rest } = o;
  return { ...rest, prepared, cachedFrom };
}
