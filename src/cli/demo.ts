/**
 * `optevo demo` (what `npm start` runs): a short search on the quick suite,
 * a couple of minutes on two cores, with the dashboard on a terminal and
 * plain progress lines elsewhere. The run is kept under runs/ like any other.
 */
import type { Command } from 'commander';
import { SearchFault } from '../../search/evolution.js';
import { generateRunName } from '../../search/store.js';
import { UserError } from './errors.js';
import { openSearch, summary } from './search.js';
import { planSearch } from './search-options.js';

/** The demo's settings: small, fast, and starting from plain SGD so that improvements show. */
export const DEMO_FLAGS = {
  seeds: 'sgd,momentum',
  budget: '1500',
  // The quick suite's rotated tasks and per-run references make 1,500 children take
  // longer than a demo should on a loaded machine: two minutes at most, whichever first.
  time: '2m',
  population: '20',
  tournament: '4',
  suite: 'quick',
  hurdle: '0',
  metavalEvery: '0',
  batch: '8',
  seed: '1',
} as const;

export function register(program: Command): void {
  program
    .command('demo')
    .description('a short demonstration search on the quick suite (a couple of minutes on 2 cores)')
    .option('--workers <n>', 'worker threads (default: up to 2)')
    .option('--run-dir <dir>', 'folder of runs (default runs)')
    .option('--no-tui', 'plain progress lines instead of the dashboard')
    .action(async (opts: { workers?: string; runDir?: string; tui?: boolean }) => {
      const plan = planSearch({
        ...DEMO_FLAGS,
        name: `demo-${generateRunName()}`,
        ...(opts.runDir ? { runDir: opts.runDir } : {}),
        ...(opts.tui === false ? { tui: false } : {}),
      });
      if (opts.workers === undefined) plan.machine.workers = Math.min(2, plan.machine.workers);
      else {
        const n = Number(opts.workers);
        if (!Number.isInteger(n) || n < 1) throw new UserError(`--workers: must be a whole number at least 1, got '${opts.workers}'`);
        plan.machine.workers = n;
      }
      const { initialFromHandle, watchSearch, shouldUseDashboard } = await import('../tui/watch.js');
      const session = await openSearch({ plan });
      const { handle } = session;
      try {
        const stats = await watchSearch(handle, { tui: plan.tui, initial: { ...initialFromHandle(handle), ...session.stored } });
        if (shouldUseDashboard({ tui: plan.tui })) process.stdout.write(summary(handle, stats) + '\n');
      } catch (e) {
        if (e instanceof SearchFault) throw new UserError(e.message);
        throw e;
      } finally {
        await handle.stop().catch(() => undefined);
        await session.finish();
      }
    });
}
