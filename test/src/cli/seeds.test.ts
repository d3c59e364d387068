import { describe, expect, it } from 'vitest';
import { seedNames, seedSource } from '../../../seeds/index.js';
import { cli, cliProcess } from './run-cli.js';

const run = (...args: string[]) => cli(args);

describe('optevo seeds', () => {
  it('lists every seed with its hyperparameters and defaults', async () => {
    const r = await run('seeds');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^seed\s+hyperparameters \(defaults\)$/);
    for (const n of seedNames) expect(lines.some((l) => l.startsWith(`${n} `))).toBe(true);
    expect(lines).toContain('adam               learningRate=0.001 beta1=0.9 beta2=0.999 epsilon=1e-8');
    expect(lines).toContain('rprop              learningRate=0.01 etaPlus=1.2 etaMinus=0.5 stepMin=1e-6 stepMax=50');
  });

  it('--json gives the list as data', async () => {
    const list = JSON.parse((await run('seeds', '--json')).out) as { name: string; hparams: Record<string, number>; summary: string }[];
    expect(list.map((s) => s.name)).toEqual(seedNames);
    expect(list.find((s) => s.name === 'lion')!.hparams).toEqual({ learningRate: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    expect(list.every((s) => s.summary.length > 0)).toBe(true);
  });

  it('prints one program as it ships', async () => {
    const r = await run('seeds', 'adamw');
    expect(r.code).toBe(0);
    expect(r.out).toBe(seedSource('adamw'));
  });

  it('NAME --json gives the seed with its source', async () => {
    const s = JSON.parse((await run('seeds', 'rprop', '--json')).out);
    expect(s.name).toBe('rprop');
    expect(s.source).toBe(seedSource('rprop'));
    expect(s.hparams.stepMin).toBe(1e-6);
  });

  it('an unknown name is one line, exit 1, from the built command too', () => {
    // The built CLI, run as a user would.
    const r = cliProcess(['seeds', 'Adam']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`optevo: unknown seed 'Adam' (did you mean 'adam'?); seeds: ${seedNames.join(', ')}\n`);
  });
});
