import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check } from '../../dsl/check.js';
import { interpreter } from '../../dsl/interpret.js';
import { parse } from '../../dsl/parse.js';
import { removeDead, simplify } from '../../dsl/simplify.js';
import { functionalFingerprint } from '../../dsl/fingerprint.js';

const listing = (name: string) => readFileSync(new URL(`../fixtures/paper/${name}.opt`, import.meta.url), 'utf8');

function runs(src: string, hparams: Record<string, number> = {}) {
  const p = parse(src);
  check(p);
  const it = interpreter(p, hparams);
  let ws = [Float64Array.from([0.5, -0.25, 1]), Float64Array.from([2])];
  let st = it.init(ws);
  for (let s = 0; s < 5; s++) {
    const gs = ws.map((w) => w.map((x) => 0.1 * x + 0.01));
    const r = it.step(ws, gs, st, 0.1);
    st = r.state;
    ws = ws.map((w, k) => w.map((x, i) => x - r.updates[k]![i]!));
  }
  return ws;
}

describe("the Lion paper's listings, pasted verbatim", () => {
  // Program 1 leaves β1, β2 and λ as symbols: give them values as hyperparameters.
  const symbols = 'β1 = 0.9\nβ2 = 0.99\nλ = 0.01\n';
  it.each(['adamw_start', 'lion_raw', 'lion_pruned', 'lion_simplified'])('%s parses, checks and runs', (name) => {
    const ws = runs((name === 'lion_simplified' ? symbols : '') + listing(name));
    for (const w of ws) for (const x of w) expect(Number.isFinite(x)).toBe(true);
  });

  it('dead-statement removal keeps 13 of the raw program\'s 21 assignments, as the paper\'s tool did', () => {
    const raw = parse(listing('lion_raw'));
    expect(raw.body).toHaveLength(21);
    const pruned = removeDead(raw, { stateFlow: false });
    expect(pruned.body).toHaveLength(13);
    check(pruned);
    expect(functionalFingerprint(pruned)).toBe(functionalFingerprint(raw));
  });

  it('following state across steps also finds m = cosh(update) dead: m\'s incoming value is never read', () => {
    const raw = parse(listing('lion_raw'));
    const pruned = removeDead(raw);
    expect(pruned.body).toHaveLength(12);
    expect(pruned.body.some((s) => s.expr.type === 'call' && s.expr.fn === 'cosh')).toBe(false);
    expect(functionalFingerprint(pruned)).toBe(functionalFingerprint(raw));
  });

  it('exact rewrites do not make the raw program longer, and keep its behaviour', () => {
    const raw = parse(listing('lion_raw'));
    const s = simplify(raw);
    expect(s.body.length).toBeLessThanOrEqual(13);
    expect(functionalFingerprint(s)).toBe(functionalFingerprint(raw));
  });
});
