import { type Command, Option } from 'commander';
import { DEFAULT_RUN_DIR } from '../inspect/open.js';
import { formatRunsTable, listRuns } from '../inspect/runs.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description('list the runs: name, start, status, children judged of the budget, best fitness and program')
    .option('--dir <dir>', `where runs live (default ${DEFAULT_RUN_DIR})`)
    .addOption(new Option('--run-dir <dir>', 'the same as --dir, as search and export spell it').hideHelp())
    .option('--json', 'print the list as JSON')
    .action((opts: { dir?: string; runDir?: string; json?: boolean }) => {
      const dir = opts.dir ?? opts.runDir ?? DEFAULT_RUN_DIR;
      const runs = listRuns(dir);
      process.stdout.write((opts.json ? JSON.stringify(runs, null, 2) : formatRunsTable(runs, dir)) + '\n');
    });
}
