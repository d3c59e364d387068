import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planSearch } from '../../src/cli/search-options.js';
import { resolveSeeds } from '../../src/cli/search.js';
import { UserError } from '../../src/cli/errors.js';
import { hurdleFor, passes, quantile } from '../../search/hurdle.js';
import { addMember, tournament } from '../../search/population.js';
import { ProgramCache } from '../../search/cache.js';
import { Rng } from '../../dsl/random.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('search settings', () => {
  it('takes defaults, then the config file, then flags', () => {
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ population: 40, tournament: 4, budget: 200, seeds: ['sgd', 'lion'], mutationWeights: { insert: 2 }, workers: 3, tui: false }));
    const plan = planSearch({ config: file, budget: '300', hurdle: '0.75', lrs: '0.01,0.1' }, { cores: 8, randomSeed: () => 99 });
    expect(plan.config).toEqual({
      seed: 99,
      budget: 300,
      population: 40,
      tournament: 4,
      seeds: ['sgd', 'lion'],
      restartAfter: 0,
      mutationWeights: { insert: 2, delete: 1, modify: 1 },
      maxStatements: 30,
      stateSlots: 2,
      hurdle: 0.75,
      suite: 'standard',
      sweep: 'halving',
      metavalEvery: 100,
      metavalTop: 3,
      batch: 64,
      ahead: 16,
      metavalShare: 0.2,
      metavalSuite: 'metaval',
      lrs: [0.01, 0.1],
      evalSeed: 99,
    });
    expect(plan.machine).toEqual({ workers: 3, evalTimeout: 300, backend: 'auto' });
    expect(plan.tui).toBe(false);
    expect([...plan.given].sort()).toEqual(['budget', 'hurdle', 'lrs', 'mutationWeights', 'population', 'seeds', 'tournament', 'tui', 'workers'].sort());
    const d = planSearch({}, { cores: 2, randomSeed: () => 5 });
    expect([d.config.population, d.config.tournament, d.config.budget, d.config.seeds, d.machine.workers, d.runDir, d.tui]).toEqual([100, 10, 1000, ['adamw'], 2, 'runs', true]);
  });

  it('meta-validates one suite up from the searched one, never on it', () => {
    expect(planSearch({ suite: 'quick' }, { cores: 2, randomSeed: () => 1 }).config.metavalSuite).toBe('standard');
    expect(planSearch({}, { cores: 2, randomSeed: () => 1 }).config.metavalSuite).toBe('metaval');
    expect(planSearch({ suite: 'quick', metavalSuite: 'metaval' }, { cores: 2, randomSeed: () => 1 }).config.metavalSuite).toBe('metaval');
    expect(() => planSearch({ suite: 'standard', metavalSuite: 'standard' }, { cores: 2, randomSeed: () => 1 })).toThrow(/--metaval-suite: must differ from --suite/);
  });

  it('reads seed files and seed names, and refuses what is neither', () => {
    const f = path.join(dir, 'mine.opt');
    fs.writeFileSync(f, 'def train(w, g, lr):\n  update = sign(g) * lr\n  return update\n');
    const seeds = resolveSeeds(['adamw', f]);
    expect(seeds.map((s) => s.name)).toEqual(['adamw', f]);
    expect(seeds[1]!.source).toContain('sign(g)');
    expect(() => resolveSeeds([path.join(dir, 'none.opt')])).toThrow(UserError);
    expect(() => resolveSeeds(['nope'])).toThrow(/neither a seed/);
  });
});

describe('hurdle, population, cache', () => {
  it('computes the percentile threshold and the standard-minus-quick offset', () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
    expect(quantile([3, 1, 2, 4], 1)).toBe(4);
    const h = hurdleFor(
      [
        { quick: 1, standard: 0.5 },
        { quick: 2, standard: 1.5 },
        { quick: 3, standard: null },
      ],
      0.5,
    );
    expect(h).toEqual({ threshold: 2, offset: -0.5 });
    expect([passes(2, h), passes(1.99, h)]).toEqual([true, false]);
    expect(hurdleFor([{ quick: 1, standard: null }], 0).threshold).toBe(-Infinity);
  });

  it('removes the oldest member and picks the fittest of a tournament', () => {
    let pop = [1, 2, 3].map((id) => ({ id, fitness: id, addedAt: id }));
    const r = addMember(pop, { id: 4, fitness: 0, addedAt: 4 }, 3);
    expect(r.pop.map((m) => m.id)).toEqual([2, 3, 4]);
    expect(r.removed.map((m) => m.id)).toEqual([1]);
    pop = r.pop;
    const wins = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const w = tournament(pop, 3, Rng.derive('t', i));
      wins.set(w.id, (wins.get(w.id) ?? 0) + 1);
    }
    expect(wins.get(3)!).toBeGreaterThan(wins.get(2)!);
    expect(wins.get(2)!).toBeGreaterThan(wins.get(4) ?? 0);
    expect(tournament(pop, 100, Rng.derive('x'))).toEqual(pop[1]);
  });

  it('finds a program by structural hash or by fingerprint; the earliest entry wins', () => {
    const c = new ProgramCache();
    c.add(3, 'h1', 'f1');
    c.add(5, 'h2', 'f1');
    expect([c.lookup('h1', 'zz'), c.lookup('h2', 'zz'), c.lookup('h9', 'f1'), c.lookup('h9', 'f9')]).toEqual([3, 5, 3, undefined]);
  });
});
