import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Program } from '../../dsl/ast.js';
import { check } from '../../dsl/check.js';
import { interpreter } from '../../dsl/interpret.js';
import { mulberry32 } from '../../dsl/mulberry32.js';
import { parse } from '../../dsl/parse.js';
import { print } from '../../dsl/print.js';
import { flatten } from '../../dsl/flatten.js';
import { removeDead, simplify } from '../../dsl/simplify.js';
import { familyHash, functionalFingerprint, structuralHash } from '../../dsl/fingerprint.js';
import { ADAMW, arbProgram } from './programs.js';
import { seedSource } from '../../seeds/index.js';
import { assertProperty } from '../property.js';

/** Updates of `steps` steps on seeded random inputs (weights follow the updates). */
function trace(p: Program, steps = 12, seed = 1): number[] {
  const r = mulberry32(seed);
  const rnd = () => r() * 2 - 1;
  const it = interpreter(p);
  let ws = [Float64Array.from({ length: 4 }, rnd), Float64Array.from({ length: 3 }, rnd)];
  let st = it.init(ws);
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    const gs = ws.map((w) => w.map(() => rnd()));
    const r = it.step(ws, gs, st, 0.05);
    st = r.state;
    r.updates.forEach((u) => out.push(...u));
    ws = ws.map((w, j) => w.map((x, i) => x - r.updates[j]![i]!));
  }
  return out;
}

/** Updates divided by the size of the first nonzero one, the weights moved by those: the trace up to scale. */
function normalisedTrace(p: Program, steps = 6, seed = 7): number[] {
  const r = mulberry32(seed);
  const rnd = () => r() * 2 - 1;
  const it = interpreter(p);
  let ws = [Float64Array.from({ length: 4 }, rnd), Float64Array.from({ length: 3 }, rnd)];
  let st = it.init(ws);
  const out: number[] = [];
  let scale = 0;
  for (let k = 0; k < steps; k++) {
    const gs = ws.map((w) => w.map(() => rnd()));
    const r = it.step(ws, gs, st, 0.05);
    st = r.state;
    if (scale === 0) for (const u of r.updates) for (const x of u) scale = Math.max(scale, Math.abs(x));
    const f = scale > 0 ? 1 / scale : 0;
    r.updates.forEach((u) => out.push(...u.map((x) => x * f)));
    ws = ws.map((w, j) => w.map((x, i) => x - 0.05 * f * r.updates[j]![i]!));
  }
  return out;
}

function sameTrace(a: number[], b: number[]) {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    const y = b[i]!;
    if (Number.isNaN(x)) expect(y).toBeNaN();
    else if (!Number.isFinite(x)) expect(y).toBe(x);
    else expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x)));
  });
}

const valid = arbProgram(14).filter((p) => {
  try {
    check(p);
    return true;
  } catch {
    return false;
  }
});

describe('simplify', () => {
  it('keeps behaviour over many steps on random inputs, for random programs', () => {
    assertProperty(
      'simplify keeps behaviour',
      fc.property(valid, (p) => {
        const s = simplify(p);
        check(s);
        expect(s.body.length).toBeLessThanOrEqual(flatten(p).body.length);
        sameTrace(trace(p), trace(s));
        // Printing is part of the contract: the simplified text reads back the same.
        sameTrace(trace(parse(print(s))), trace(s));
      }),
      { numRuns: 300 },
    );
  });

  it('removeDead keeps behaviour and never adds statements', () => {
    assertProperty(
      'removeDead keeps behaviour',
      fc.property(valid, (p) => {
        const d = removeDead(p);
        check(d);
        sameTrace(trace(p), trace(d));
      }),
      { numRuns: 300 },
    );
  });

  it('folds constants, applies exact identities and orders commutative operands', () => {
    const p = parse(`def train(w, g, m, lr):
  a = 2 * 3
  b = g * 1
  c = -(-b)
  d = c + 0
  e = a * d
  f = lr + w
  u = e * f
  m = abs(negative(m)) + g
  return u, m
`);
    // m's incoming value is never read by the update: the slot goes too.
    expect(print(simplify(p))).toBe(`def train(w, g, lr):
  e = g * 6
  f = w + lr
  u = f * e
  return u
`);
  });

  it('drops a state slot that nothing reads, with the statements feeding it', () => {
    const p = parse(`def train(w, g, m, v, lr):
  v = v * 0.9 + g
  m = cosh(g)
  u = v * lr
  return u, m, v
`);
    expect(print(simplify(p))).toBe(`def train(w, g, v, lr):
  v1 = v * 0.9
  v = v1 + g
  u = lr * v
  return u, v
`);
  });

  it('merges common subexpressions', () => {
    const s = simplify(parse(ADAMW.replace('g2 = square(g)', 'g2 = square(g)\n  g3 = square(g)').replace('v = interp(g2', 'v = interp(g3')));
    expect(print(s)).toBe(print(simplify(parse(ADAMW))));
  });
});

describe('fingerprints', () => {
  const a = parse('def train(w, g, m, lr):\n  m = m * 0.9 + g\n  u = m * lr + w * 0.01\n  return u, m\n');
  const b = parse('def train(w, g, mom, lr):\n  junk = sin(g)\n  mom = g + 0.9 * mom\n  update = 0.01 * w + lr * mom\n  return update, mom\n');
  const c = parse('def train(w, g, m, lr):\n  m = m * 0.9 + g\n  u = m * lr + w * 0.02\n  return u, m\n');

  it('the structural hash ignores names, dead code and commutative order', () => {
    expect(structuralHash(a)).toBe(structuralHash(b));
    expect(structuralHash(a)).not.toBe(structuralHash(c));
  });

  it('the functional fingerprint equates a program and its simplified form, and a + b with b + a', () => {
    expect(functionalFingerprint(a)).toBe(functionalFingerprint(b));
    expect(functionalFingerprint(a)).toBe(functionalFingerprint(simplify(a)));
    const x = parse('def train(w, g, lr):\n  u = g * lr\n  u = u + w * 0.1\n  return u\n');
    const y = parse('def train(w, g, lr):\n  u = 0.1 * w\n  u = lr * g + u\n  return u\n');
    expect(structuralHash(x)).toBe(structuralHash(y));
    expect(functionalFingerprint(x)).toBe(functionalFingerprint(y));
    // Different structure, same function: only the fingerprint sees it.
    const sq = parse('def train(w, g, lr):\n  u = square(g) * lr\n  return u\n');
    const gg = parse('def train(w, g, lr):\n  u = g * g * lr\n  return u\n');
    expect(structuralHash(sq)).not.toBe(structuralHash(gg));
    expect(functionalFingerprint(sq)).toBe(functionalFingerprint(gg));
  });

  it('is taken up to scale: a positive multiple of a program whose lr scales its whole update is the same optimizer', () => {
    const adamw = parse(seedSource('adamw'));
    // AdamW with every step multiplied by 6.39: a learning-rate artefact, not a new optimizer.
    const scaled = parse(seedSource('adamw').replace('return update, m, v', 'return update * 6.39, m, v'));
    expect(print(scaled)).not.toBe(print(adamw));
    expect(functionalFingerprint(scaled)).toBe(functionalFingerprint(adamw));
    expect(functionalFingerprint(adamw)).toMatch(/^s/);
    const sgd = parse('def train(w, g, lr):\n  return g * lr\n');
    const sgd3 = parse('def train(w, g, lr):\n  return g * lr * 3\n');
    expect(functionalFingerprint(sgd3)).toBe(functionalFingerprint(sgd));
    // A negative multiple climbs instead of descending: another program.
    const up = parse('def train(w, g, lr):\n  return g * lr * -3\n');
    expect(functionalFingerprint(up)).not.toBe(functionalFingerprint(sgd));
    // Where lr does not scale the whole update (weight decay outside it), scale matters: raw fingerprints.
    const wd = parse('def train(w, g, lr):\n  return g * lr + w * 0.01\n');
    const wd2 = parse('def train(w, g, lr):\n  return (g * lr + w * 0.01) * 2\n');
    expect(functionalFingerprint(wd)).toMatch(/^f/);
    expect(functionalFingerprint(wd2)).not.toBe(functionalFingerprint(wd));
    // A program that ignores lr is not rescued by the sweep either.
    // Nor is a program that uses lr otherwise the same as the constant lr makes at one rate.
    const viaRate = parse('def train(w, g, lr):\n  t = interp(10, 0, lr)\n  return g * 0.5 + t\n');
    const constant = parse('def train(w, g, lr):\n  return g * 0.5 + 9\n');
    expect(functionalFingerprint(viaRate)).not.toBe(functionalFingerprint(constant));
    expect(functionalFingerprint(viaRate)).toBe(functionalFingerprint(parse('def train(w, g, lr):\n  return 10 - 10 * lr + g / 2\n')));
    const fixed = parse('def train(w, g, lr):\n  return g * 0.01\n');
    const fixed2 = parse('def train(w, g, lr):\n  return g * 0.02\n');
    expect(functionalFingerprint(fixed2)).not.toBe(functionalFingerprint(fixed));
  });

  it('different programs practically never share a fingerprint', () => {
    const byFp = new Map<string, string>();
    let collisions = 0;
    assertProperty(
      'fingerprints practically never collide',
      fc.property(valid, (p) => {
        const fp = functionalFingerprint(p);
        // Up-to-scale fingerprints must agree up to scale, on other inputs.
        const tr = fp.startsWith('s') ? normalisedTrace(simplify(p)) : trace(simplify(p), 6, 7);
        const t = tr.map((x) => (Number.isFinite(x) ? x.toPrecision(6) : String(x))).join(',');
        const seen = byFp.get(fp);
        if (seen !== undefined && seen !== t && !fp.startsWith('nf')) collisions++;
        byFp.set(fp, t);
      }),
      { numRuns: 500, seed: 20230214 },
    );
    expect(collisions).toBe(0);
  });
});

describe('family hash', () => {
  it('programs that differ only in constants are one family; other structure is another', () => {
    const heavy = (mu: string, wd: string) => parse(`momentum = ${mu}\ndef train(w, g, buf, lr):\n  buf = buf * momentum + g\n  return (buf + w * ${wd}) * lr, buf\n`);
    expect(familyHash(heavy('0.95', '0.001'))).toBe(familyHash(heavy('0.9', '0.01')));
    expect(structuralHash(heavy('0.95', '0.001'))).not.toBe(structuralHash(heavy('0.9', '0.01')));
    // Commutative order and names do not matter either.
    const swapped = parse('def train(w, g, m, lr):\n  m = g + 0.5 * m\n  return lr * (0.2 * w + m), m\n');
    expect(familyHash(swapped)).toBe(familyHash(heavy('0.9', '0.01')));
    // A different function, or a constant where a tensor was, is another family.
    const nesterov = parse('def train(w, g, buf, lr):\n  buf = buf * 0.9 + g\n  return (g + buf * 0.9) * lr, buf\n');
    expect(familyHash(nesterov)).not.toBe(familyHash(heavy('0.9', '0.01')));
    const signed = parse('def train(w, g, buf, lr):\n  buf = buf * 0.9 + sign(g)\n  return (buf + w * 0.01) * lr, buf\n');
    expect(familyHash(signed)).not.toBe(familyHash(heavy('0.9', '0.01')));
    expect(familyHash(parse(seedSource('adam')))).toBe(familyHash(parse(seedSource('adam').replace('epsilon = 1e-8', 'epsilon = 4.648e-9'))));
  });
});

describe('structural hash and unused state', () => {
  it('an unused state slot, wherever it stands, does not change the structural hash', () => {
    const a = parse('def train(w, g, m, lr):\n  m = m * 0.9 + g\n  return m * lr, m\n');
    const b = parse('def train(w, g, s1, m, s2, lr):\n  m = m * 0.9 + g\n  return m * lr, s1, m, s2\n');
    expect(structuralHash(b)).toBe(structuralHash(a));
  });
});
