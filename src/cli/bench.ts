/** `optevo bench`: the benchmarks of `npm run bench`, from the installed package. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError } from './errors.js';

export function register(program: Command): void {
  program
    .command('bench')
    .description('run the benchmarks (all, or the named ones: dsl, optimizer-step, tasks, search-scaling, search-cache, search-defaults, search-discovery)')
    .argument('[names...]', 'benchmarks to run')
    .option('--quick', 'shorter runs where a benchmark has them')
    .action((names: string[], opts: { quick?: boolean }) => {
      const runner = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
      if (!existsSync(runner)) throw new UserError(`the benchmarks are not built (${runner} is missing): run 'npm run build'`);
      const r = spawnSync(process.execPath, [runner, ...names, ...(opts.quick ? ['--quick'] : [])], { stdio: 'inherit' });
      process.exitCode = r.status ?? 1;
    });
}
