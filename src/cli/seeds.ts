/**
 * `optevo seeds`: the seed optimizers with their hyperparameters (API names
 * and defaults); `optevo seeds NAME` prints one program as it ships.
 */
import type { Command } from 'commander';
import { SEEDS, isSeedName, seedHparams, seedSource, seedSummary, seedNames } from '../../seeds/index.js';
import { UserError } from './errors.js';

function describeSeed(name: string) {
  const row = SEEDS.find((s) => s.name === name)!;
  return { name, summary: seedSummary(name), hparams: seedHparams(name), reference: row.reference };
}

/** `1e-6` rather than `0.000001`. */
function formatValue(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
}

function unknown(name: string): UserError {
  const lower = name.toLowerCase();
  const near = seedNames.filter((n) => n.toLowerCase() === lower || n.toLowerCase().startsWith(lower) || lower.startsWith(n.toLowerCase()));
  const hint = near.length ? ` (did you mean '${near[0]}'?)` : '';
  return new UserError(`unknown seed '${name}'${hint}; seeds: ${seedNames.join(', ')}`);
}

export function register(program: Command): void {
  program
    .command('seeds')
    .description('list the seed optimizers and their hyperparameters, or print one seed program')
    .argument('[name]', 'a seed to print (e.g. adam)')
    .option('--json', 'print data: the list, or the named seed with its source')
    .action((name: string | undefined, opts: { json?: boolean }) => {
      if (name !== undefined) {
        if (!isSeedName(name)) throw unknown(name);
        if (opts.json) process.stdout.write(JSON.stringify({ ...describeSeed(name), source: seedSource(name) }, null, 2) + '\n');
        else process.stdout.write(seedSource(name));
        return;
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(seedNames.map(describeSeed), null, 2) + '\n');
        return;
      }
      const width = Math.max(...seedNames.map((n) => n.length)) + 2;
      const lines = ['seed'.padEnd(width) + 'hyperparameters (defaults)'];
      for (const n of seedNames) {
        const hp = Object.entries(seedHparams(n)).map(([k, v]) => `${k}=${formatValue(v)}`);
        lines.push(n.padEnd(width) + hp.join(' '));
      }
      lines.push('', `optevo seeds NAME prints a program; optimizers.NAME({ ... }) replays it in tfjs.`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
