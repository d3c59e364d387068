import type { Command } from 'commander';
import { DEFAULT_RUN_DIR } from '../inspect/open.js';
import { formatRunsTable, listRuns } from '../inspect/runs.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description('list the runs: name, start, status, children judged of the budget, best fitness and program')
    .option('--dir <dir>', 'where runs live', DEFAULT_RUN_DIR)
    .option('--json', 'print the list as JSON')
    .action((opts: { dir: string; json?: boolean }) => {
      const runs = listRuns(opts.dir);
      process.stdout.write((opts.json ? JSON.stringify(runs, null, 2) : formatRunsTable(runs, opts.dir)) + '\n');
    });
}
