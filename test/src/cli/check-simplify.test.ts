import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cliProcess } from './run-cli.js';

// The built CLI (`npm test` builds first), run as a user would.
const run = (...args: string[]) => cliProcess(args);
const dir = mkdtempSync(join(tmpdir(), 'optevo-cli-'));
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const raw = new URL('../../fixtures/paper/lion_raw.opt', import.meta.url).pathname;

describe('optevo check', () => {
  it('prints one ok line per file and exits 0 when every file is valid', () => {
    const ok = file('ok.opt', 'def train(w, g, lr):\n  return g * lr\n');
    const r = run('check', raw, ok);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${raw}: ok\n${ok}: ok\n`);
    expect(r.status).toBe(0);
  });

  it('prints FILE:LINE:COL: message for each error and exits 1', () => {
    const a = file('a.opt', 'def train(w, g, lr):\n  u = interp(g, w)\n  return u\n');
    const b = file('b.opt', 'def train(w, g, m, lr):\n  return g * lr\n');
    const r = run('check', a, raw, b);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`${raw}: ok\n`);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${a}:2:7: interp takes 3 arguments, got 2`,
      `${b}:2:3: 'train' must return 2 values (update, m), got 1`,
    ]);
  });

  it('a missing file is one line, exit 1', () => {
    const r = run('check', join(dir, 'nope.opt'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`optevo: ${join(dir, 'nope.opt')}: cannot read (no such file)\n`);
  });
});

describe('optevo simplify', () => {
  it('prints the simplified program', () => {
    const out = execFileSync(process.execPath, [CLI, 'simplify', file('s.opt', 'def train(w, g, m, lr):\n  m = cosh(g)\n  u = g * 1 * lr\n  return u, m\n')], { encoding: 'utf8' });
    expect(out).toBe('def train(w, g, lr):\n  u = g * lr\n  return u\n');
  });

  it('--json gives counts before and after and both fingerprints', () => {
    const out = JSON.parse(execFileSync(process.execPath, [CLI, 'simplify', '--json', raw], { encoding: 'utf8' }));
    expect(out.statementsBefore).toBe(21);
    expect(out.statementsAfter).toBeLessThanOrEqual(12);
    expect(out.structuralHash).toMatch(/^[0-9a-f]{28}$/);
    expect(out.functionalFingerprint).toMatch(/^(s|f|nf)[0-9a-f]+$/);
  });

  it('--dead-only keeps names and order', () => {
    const out = execFileSync(process.execPath, [CLI, 'simplify', '--dead-only', raw], { encoding: 'utf8' });
    expect(out.split('\n').filter((l) => l.startsWith('  ') && !l.includes('return'))).toHaveLength(12);
  });
});
