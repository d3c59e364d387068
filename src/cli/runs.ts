import { type Command, Option } from 'commander';
import { DEFAULT_RUN_DIR } from '../inspect/open.js';
import { formatRunsTable, listRuns, type RunSummary } from '../inspect/runs.js';
import { isCoordinated } from '../../search/postgres/lock.js';
import { PgRunStore } from '../../search/postgres/store.js';
import type { StoreLocation } from '../../search/postgres/url.js';
import { withPgStore } from './pg-open.js';
import { STORE_HELP, storeOption } from './store-option.js';

/** The runs kept in a PostgreSQL store, newest first; a run marked running that no coordinator holds is interrupted. */
async function listPgRuns(location: StoreLocation): Promise<RunSummary[]> {
  return withPgStore(location, async (db) => {
    const runs = await PgRunStore.list(db);
    const out: RunSummary[] = [];
    for (const r of runs) {
      const live = r.status === 'running' ? await isCoordinated(db, r.id) : false;
      out.push({
        name: r.name,
        dir: `${r.name} --store ${location.display}`,
        started: r.createdAt,
        status: r.status === 'running' && !live ? 'interrupted' : r.status,
        judged: r.counters.committed,
        budget: r.budget,
        bestFitness: r.counters.bestFitness,
        bestId: r.counters.bestId,
      });
    }
    return out;
  });
}

export function register(program: Command): void {
  program
    .command('runs')
    .description('list the runs: name, start, status, children judged of the budget, best fitness and program')
    .option('--dir <dir>', `where runs live (default ${DEFAULT_RUN_DIR})`)
    .addOption(new Option('--run-dir <dir>', 'the same as --dir, as search and export spell it').hideHelp())
    .option('--json', 'print the list as JSON')
    .option('--store <url>', STORE_HELP)
    .action(async (opts: { dir?: string; runDir?: string; json?: boolean; store?: string }) => {
      const location = storeOption(opts.store);
      const dir = location ? location.display : (opts.dir ?? opts.runDir ?? DEFAULT_RUN_DIR);
      const runs = location ? await listPgRuns(location) : listRuns(dir);
      process.stdout.write((opts.json ? JSON.stringify(runs, null, 2) : formatRunsTable(runs, dir)) + '\n');
    });
}
