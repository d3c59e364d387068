import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from '../../dsl/parse.js';
import { print } from '../../dsl/print.js';
import { flatten } from '../../dsl/flatten.js';
import { makeMutator } from '../../search/mutate.js';
import { fn } from '../../dsl/functions.js';
import { Rng } from '../../dsl/random.js';
import { seedNames, seedProgram } from '../../seeds/index.js';
import { assertProperty } from '../property.js';

const all = { insert: 1, delete: 1, modify: 1 };
const flat = (name: string) => flatten(seedProgram(name));

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    Object.values(x).forEach(deepFreeze);
    Object.freeze(x);
  }
  return x;
}

describe('mutate', () => {
  it('copies the parent: the parent is never changed, the child prints and parses back', () => {
    const mutate = makeMutator({ weights: all, maxStatements: 30 });
    assertProperty(
      'mutation copies the parent',
      fc.property(fc.constantFrom(...seedNames), fc.integer({ min: 0, max: 1e6 }), (name, seed) => {
        const parent = deepFreeze(flat(name));
        const before = print(parent);
        const m = mutate(parent, Rng.derive('t', seed));
        expect(print(parent)).toBe(before);
        const text = print(m.program);
        expect(print(parse(text))).toBe(text);
        expect(m.program.header).toEqual([]);
        expect(m.detail.startsWith(m.kind)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is a function of the stream: the same seed gives the same child', () => {
    const mutate = makeMutator({ weights: all, maxStatements: 30 });
    for (let i = 0; i < 50; i++) {
      const a = mutate(flat('adamw'), Rng.derive('same', i));
      const b = mutate(flat('adamw'), Rng.derive('same', i));
      expect(print(a.program)).toBe(print(b.program));
      expect(a.detail).toBe(b.detail);
    }
  });

  it('follows the weights: insert only adds one statement, delete only removes one', () => {
    const ins = makeMutator({ weights: { insert: 1, delete: 0, modify: 0 }, maxStatements: 100 });
    const del = makeMutator({ weights: { insert: 0, delete: 1, modify: 0 }, maxStatements: 100 });
    const p = flat('adamw');
    for (let i = 0; i < 40; i++) {
      const a = ins(p, Rng.derive('w', i));
      expect([a.kind, a.program.body.length]).toEqual(['insert', p.body.length + 1]);
      const d = del(p, Rng.derive('w', i));
      expect([d.kind, d.program.body.length]).toEqual(['delete', p.body.length - 1]);
    }
  });

  it('never grows a body past maxStatements', () => {
    const ins = makeMutator({ weights: { insert: 1, delete: 0, modify: 0 }, maxStatements: 3 });
    let p = flat('sgd');
    for (let i = 0; i < 10; i++) p = ins(p, Rng.derive('max', i)).program;
    expect(p.body.length).toBe(3);
  });

  it('scales constants by 2^N(0,1) and draws new ones from N(0,1)', () => {
    const mod = makeMutator({ weights: { insert: 0, delete: 0, modify: 1 }, maxStatements: 30 });
    const p = parse('beta = 0.5\n\ndef train(w, g, m, lr):\n  m = interp(g, m, beta)\n  update = lr * m\n  return update, m\n');
    const ratios: number[] = [];
    for (let i = 0; i < 400; i++) {
      const m = mod(p, Rng.derive('c', i));
      if (/^modify beta:/.test(m.detail)) ratios.push(Math.log2(m.program.hparams[0]!.value / 0.5));
    }
    expect(ratios.length).toBeGreaterThan(40);
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const sd = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / ratios.length);
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(sd).toBeGreaterThan(0.75);
    expect(sd).toBeLessThan(1.25);
  });

  it('prefers arguments of the right kind: most children of adamw pass the checker', async () => {
    const { check } = await import('../../dsl/check.js');
    const mutate = makeMutator({ weights: { insert: 1, delete: 0, modify: 1 }, maxStatements: 30 });
    let valid = 0;
    for (let i = 0; i < 300; i++) {
      try {
        check(mutate(flat('adamw'), Rng.derive('k', i)).program);
        valid++;
      } catch {
        // invalid child
      }
    }
    expect(valid).toBeGreaterThan(240);
  });

  it("repairs deletions: a deleted value's reads are rebound to a name of the same kind", async () => {
    const { check } = await import('../../dsl/check.js');
    const deleteOnly = makeMutator({ weights: { insert: 0, delete: 1, modify: 0 }, maxStatements: 30 });
    const p = parse('def train(w, g, m, lr):\n  t = sqrt(g)\n  m = m * 0.9 + t\n  s = norm(t)\n  u = m * s\n  return u * lr, m\n');
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const c = deleteOnly(flatten(p), Rng.derive('repair', i));
      expect(() => check(c.program), c.detail).not.toThrow();
      seen.add(c.detail);
    }
    // Deleting `t = sqrt(g)` rebinds its tensor reads to a tensor in scope (w, g or m), never to lr.
    const t = [...seen].filter((d) => d.includes('sqrt(g)'));
    expect(t.length).toBeGreaterThan(0);
    for (const d of t) expect(d).toMatch(/\(uses read (w|g|m)\)$/);
    // Deleting the scalar `s` rebinds it to the scalar lr.
    for (const d of [...seen].filter((x) => x.includes('norm('))) expect(d).toMatch(/\(uses read lr\)$/);
  });

  it('invalid children stay under 5% along evolving lineages from sgd and adamw', async () => {
    const { check } = await import('../../dsl/check.js');
    const { withStateSlots } = await import('../../dsl/state-slots.js');
    const mutate = makeMutator({ weights: all, maxStatements: 30 });
    for (const seed of ['sgd', 'adamw']) {
      const pop = [withStateSlots(flat(seed), 2)];
      let invalid = 0;
      const n = 1000;
      for (let i = 0; i < n; i++) {
        const r = Rng.derive('lineage', seed, i);
        const child = mutate(pop[r.int(pop.length)]!, r).program;
        try {
          check(child);
          pop.push(child);
          if (pop.length > 50) pop.shift();
        } catch {
          invalid++;
        }
      }
      expect(invalid / n, seed).toBeLessThan(0.05);
    }
  });

  it('inserts into the data path: a later read sees the new value, and a state slot it assigns reads its old value', () => {
    const ins = makeMutator({ weights: { insert: 1, delete: 0, modify: 0 }, maxStatements: 30, pathRate: 1 });
    const p = parse('def train(w, g, m, lr):\n  update = lr * g\n  return update, m\n');
    let into = 0;
    let memory = 0;
    for (let i = 0; i < 200; i++) {
      const c = ins(p, Rng.derive('path', i));
      const [first, second] = c.program.body;
      if (!c.detail.startsWith('insert 1:') || second?.target !== 'update') continue; // not before the only statement: nothing to read into
      into++;
      expect(c.detail, c.detail).toMatch(/\(into update's read of (lr|g)\)$/);
      // `update` reads the new statement's target where it read lr or g before.
      expect(print(c.program), c.detail).toMatch(new RegExp(`update = .*\\b${first!.target}\\b`));
      const call = first!.expr.type === 'call' ? fn(first!.expr.fn) : undefined;
      if (first!.target === 'm' && (call?.args.filter((k) => k === 'any').length ?? 0) >= 2) {
        expect(print(c.program), c.detail).toMatch(/m = \w+\(.*\bm\b.*\)|m = .*\bm\b/);
        memory++;
      }
    }
    expect(into).toBeGreaterThan(60);
    expect(memory).toBeGreaterThan(10);
  });

  it('puts memory one mutation away from sgd: some children keep an exponential average of the gradient in a state slot', async () => {
    const { withStateSlots } = await import('../../dsl/state-slots.js');
    const { analyze } = await import('../../dsl/analyze.js');
    const sgd = withStateSlots(flat('sgd'), 2);
    const count = (pathRate: number) => {
      const mutate = makeMutator({ weights: all, maxStatements: 30, pathRate });
      let n = 0;
      for (let i = 0; i < 4000; i++) {
        let text: string;
        try {
          text = print(analyze(mutate(sgd, Rng.derive('memory', i)).program).simplified, { noHeader: true });
        } catch {
          continue; // an invalid child
        }
        if (/ (s\d) = interp\((g, \1|\1, g), [^)]+\)\n +update = .*\b\1\b/.test(text)) n++;
      }
      return n;
    };
    expect(count(0)).toBe(0);
    expect(count(0.5)).toBeGreaterThan(3);
  });

  it("draws interp's weight in (0, 1), often a decay near 1, and moves a constant in (0, 1) mostly within it", () => {
    const ins = makeMutator({ weights: { insert: 1, delete: 0, modify: 0 }, maxStatements: 30 });
    const sgd = parse('def train(w, g, m, lr):\n  update = lr * g\n  return update, m\n');
    const weights: number[] = [];
    for (let i = 0; i < 3000; i++) {
      for (const s of ins(sgd, Rng.derive('weight', i)).program.body) {
        const a = s.expr.type === 'call' && s.expr.fn === 'interp' ? s.expr.args[2] : undefined;
        if (a?.type === 'num') weights.push(a.value);
      }
    }
    expect(weights.length).toBeGreaterThan(50);
    expect(weights.every((a) => a >= 0 && a <= 1)).toBe(true);
    // Under N(0, 1) as other constants, 0.9-0.999 would be under 2% of draws (logit-normal: about a sixth).
    expect(weights.filter((a) => a >= 0.9 && a <= 0.999).length / weights.length).toBeGreaterThan(0.1);
    const mod = makeMutator({ weights: { insert: 0, delete: 0, modify: 1 }, maxStatements: 30 });
    const ema = parse('def train(w, g, m, lr):\n  m = interp(g, m, 0.9)\n  update = lr * m\n  return update, m\n');
    let moved = 0;
    let inside = 0;
    for (let i = 0; i < 2000; i++) {
      const c = mod(ema, Rng.derive('decay', i));
      const m = /constant: 0\.9 -> (\S+)$/.exec(c.detail);
      if (!m) continue;
      moved++;
      if (Number(m[1]) > 0 && Number(m[1]) < 1) inside++;
    }
    expect(moved).toBeGreaterThan(100);
    // Times 2^N(0,1) alone keeps 0.9 below 1 for 56% of moves; half of them in logit space, about 78%.
    expect(inside / moved).toBeGreaterThan(0.7);
  });
});
