/**
 * The seed files: each parses, checks, prints back to itself, documents its
 * source, and declares exactly the hyperparameters and defaults that the
 * design's table fixes (those are what users and tests call).
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stripPositions } from '../../dsl/ast.js';
import { check } from '../../dsl/check.js';
import { parse } from '../../dsl/parse.js';
import { print } from '../../dsl/print.js';
import {
  SEEDS,
  camelCase,
  isSeedName,
  seedHparams,
  seedNames,
  seedPath,
  seedProgram,
  seedSource,
  seedSummary,
} from '../../seeds/index.js';

/** design.md, "Seeds and their hyperparameters", plus the further seeds. */
const DEFAULTS: Record<string, Record<string, number>> = {
  sgd: { learningRate: 0.01 },
  momentum: { learningRate: 0.01, momentum: 0.9 },
  nesterov: { learningRate: 0.01, momentum: 0.9 },
  adaptiveGains: { learningRate: 0.01, gainUp: 0.05, gainDown: 0.95, gainMin: 0.1, gainMax: 10 },
  rprop: { learningRate: 0.01, etaPlus: 1.2, etaMinus: 0.5, stepMin: 1e-6, stepMax: 50 },
  rmsprop: { learningRate: 0.001, decay: 0.9, epsilon: 1e-8 },
  adagrad: { learningRate: 0.01, epsilon: 1e-10 },
  adadelta: { learningRate: 1.0, rho: 0.9, epsilon: 1e-6 },
  adam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  adamw: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 },
  lion: { learningRate: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
  powerSign: { learningRate: 0.1, beta: 0.9, logBase: 1 },
  addSign: { learningRate: 0.1, beta: 0.9, alpha: 1 },
  nadam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  amsgrad: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  adabelief: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-16 },
  conjugateGradient: { learningRate: 0.01, epsilon: 1e-12 },
};

describe('seed table', () => {
  it('has the design names and the further seeds, each once', () => {
    expect(seedNames).toEqual(Object.keys(DEFAULTS));
    expect(new Set(seedNames).size).toBe(seedNames.length);
  });

  it('has one .opt file per seed and no other', () => {
    const files = readdirSync(dirname(seedPath('sgd'))).filter((f) => f.endsWith('.opt'));
    expect(files.map((f) => f.slice(0, -4)).sort()).toEqual([...seedNames].sort());
  });

  it('knows its names', () => {
    expect(isSeedName('adam')).toBe(true);
    expect(isSeedName('adamx')).toBe(false);
    expect(isSeedName('toString')).toBe(false);
    expect(() => seedSource('adamx')).toThrow(/unknown seed 'adamx' \(seeds: sgd, momentum/);
    expect(() => seedProgram('../package')).toThrow(/unknown seed/);
  });

  it('converts program names to API names', () => {
    expect(camelCase('weight_decay')).toBe('weightDecay');
    expect(camelCase('learning_rate')).toBe('learningRate');
    expect(camelCase('beta1')).toBe('beta1');
    expect(camelCase('step_min')).toBe('stepMin');
  });
});

describe.each(SEEDS.map((s) => [s.name, s] as const))('%s', (name, row) => {
  it('parses and checks', () => {
    const p = seedProgram(name);
    expect(() => check(p, { file: `seeds/${name}.opt` })).not.toThrow();
    expect(p.fnName).toBe('train');
  });

  it('prints back to the same program', () => {
    const p = seedProgram(name);
    expect(stripPositions(parse(print(p)))).toEqual(stripPositions(p));
  });

  it('has the design defaults, and its row lists them', () => {
    expect(seedHparams(name)).toEqual(DEFAULTS[name]);
    expect(Object.keys(seedHparams(name))).toEqual([...row.hparams]);
  });

  it('gives its source and conventions in a header comment', () => {
    const p = seedProgram(name);
    expect(p.header.length).toBeGreaterThanOrEqual(2);
    expect(p.header.join(' ')).toMatch(/Source:/);
    expect(seedSummary(name)).toBe(p.header[0]);
  });

  it('takes the learning rate as lr', () => {
    const p = seedProgram(name);
    expect(p.params.map((q) => q.name)).toContain('lr');
    expect(p.params.slice(0, 2).map((q) => q.name)).toEqual(['w', 'g']);
  });
});

describe('corrections to the seed notes', () => {
  it('AdaDelta averages squared gradients', () => {
    expect(seedSource('adadelta')).toMatch(/v = rho \* v \+ \(1 - rho\) \* square\(g\)/);
  });

  it('AdamW subtracts its decay (it is part of the update)', () => {
    expect(seedSource('adamw')).toMatch(/update = .* \+ lr \* weight_decay \* w/);
  });
});
