import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { seedNames, seedSource } from '../../../seeds/index.js';

// The built CLI (`npm test` builds first), run as a user would.
const CLI = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('optevo seeds', () => {
  it('lists every seed with its hyperparameters and defaults', () => {
    const r = run('seeds');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^seed\s+hyperparameters \(defaults\)$/);
    for (const n of seedNames) expect(lines.some((l) => l.startsWith(`${n} `))).toBe(true);
    expect(lines).toContain('adam               learningRate=0.001 beta1=0.9 beta2=0.999 epsilon=1e-8');
    expect(lines).toContain('rprop              learningRate=0.01 etaPlus=1.2 etaMinus=0.5 stepMin=1e-6 stepMax=50');
  });

  it('--json gives the list as data', () => {
    const list = JSON.parse(run('seeds', '--json').stdout) as { name: string; hparams: Record<string, number>; summary: string }[];
    expect(list.map((s) => s.name)).toEqual(seedNames);
    expect(list.find((s) => s.name === 'lion')!.hparams).toEqual({ learningRate: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    expect(list.every((s) => s.summary.length > 0)).toBe(true);
  });

  it('prints one program as it ships', () => {
    const r = run('seeds', 'adamw');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(seedSource('adamw'));
  });

  it('NAME --json gives the seed with its source', () => {
    const s = JSON.parse(run('seeds', 'rprop', '--json').stdout);
    expect(s.name).toBe('rprop');
    expect(s.source).toBe(seedSource('rprop'));
    expect(s.hparams.stepMin).toBe(1e-6);
  });

  it('an unknown name is one line, exit 1', () => {
    const r = run('seeds', 'Adam');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`optevo: unknown seed 'Adam' (did you mean 'adam'?); seeds: ${seedNames.join(', ')}\n`);
  });
});
