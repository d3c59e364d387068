/**
 * Every factory's JSDoc (what an editor shows on hover) lists every default
 * of its rule, with the values of the rule's program file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { camelCase } from '../../seeds/index.js';
import { optimizers } from '../../src/optimizers.js';
import { type RuleName, ruleProgram } from '../../src/rules.js';

const source = readFileSync(new URL('../../src/optimizers.ts', import.meta.url), 'utf8');

/** The `Defaults: a 1, b 2.` sentence of a factory's doc comment, as pairs. */
function documented(name: string): Record<string, string> {
  const m = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*\\n\\s*${name}\\(hparams`).exec(source);
  if (!m) throw new Error(`no doc comment for ${name}`);
  const d = /Defaults: ([^.]*(?:\.\d[^.]*)*)\./.exec(m[1]!.replace(/\n\s*\*\s*/g, ' '));
  if (!d) throw new Error(`no 'Defaults:' in the doc comment of ${name}`);
  return Object.fromEntries(d[1]!.split(', ').map((pair) => pair.trim().split(' ') as [string, string]));
}

describe('factory docs', () => {
  it.each(Object.keys(optimizers))('%s lists every default of its program', (name) => {
    const { program } = ruleProgram(name as RuleName, {});
    const want: Record<string, string> = {};
    for (const h of program.hparams) want[camelCase(h.name)] = String(h.value);
    // The options that choose a program, at their defaults.
    if (name === 'rmsprop') Object.assign(want, { momentum: '0', centered: 'false' });
    if (name === 'adagrad') want['initialAccumulatorValue'] = String(program.params.find((p) => p.name === 'acc')!.init ?? 0);
    const got = documented(name);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) expect(Number(got[k]) || got[k], `${name}.${k}`).toEqual(Number(v) || v);
  });
});
