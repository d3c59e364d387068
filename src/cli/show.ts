import * as fs from 'node:fs';
import { type Command, Option } from 'commander';
import { UserError } from './errors.js';
import { checkOutputPath } from './output-file.js';
import { isCoordinated } from '../../search/postgres/lock.js';
import { loadRunView } from '../inspect/pg-view.js';
import type { RunReader } from '../inspect/reader.js';
import { followRun } from './follow.js';
import { withPgRun } from './pg-open.js';
import { STORE_HELP, storeOption } from './store-option.js';
import { formatRunReport, runReport } from '../inspect/run-report.js';
import { DEFAULT_RUN_DIR, parseProgramId, withRun } from '../inspect/open.js';
import { lossCurvesSvg, type CurveSeries } from '../inspect/plot.js';
import { curveSeries, formatProgramDetail, programDetail } from '../inspect/program.js';
import { errorMessage } from '../../dsl/errors.js';

interface ShowOptions {
  dir?: string;
  runDir?: string;
  top: string;
  json?: boolean;
  program?: string;
  plot?: string;
  store?: string;
  follow?: boolean;
}

function parseTop(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--top expects a whole number of at least 1, not '${value}'`);
  return n;
}

async function taskSteps(): Promise<(task: string) => number | undefined> {
  try {
    const { builtinTask } = await import('../tasks/registry.js');
    return (task) => builtinTask(task)?.steps;
  } catch {
    return () => undefined;
  }
}

export function register(program: Command): void {
  program
    .command('show')
    .description("a run's leaderboard, or one program: source, simplified form, lineage, per-task scores, loss curves")
    .argument('<run>', 'run name (under --dir), run directory or run.db file')
    .option('--dir <dir>', `where runs live (default ${DEFAULT_RUN_DIR})`)
    .addOption(new Option('--run-dir <dir>', 'the same as --dir, as search and export spell it').hideHelp())
    .option('--top <n>', 'programs on the leaderboard', '10')
    .option('--program <id>', 'show this program instead of the leaderboard')
    .option('--plot <file.svg>', "write the program's loss curves against the seeds' (the best program without --program)")
    .option('--json', 'print data as JSON')
    .option('--store <url>', STORE_HELP)
    .option('--follow', 'keep watching the run (read-only, from any machine): a line per new best and failure, progress each second, until it ends')
    .action(async (run: string, opts: ShowOptions) => {
      const location = storeOption(opts.store);
      const dir = opts.dir ?? opts.runDir ?? DEFAULT_RUN_DIR;
      const top = parseTop(opts.top);
      if (opts.plot !== undefined && !opts.plot.toLowerCase().endsWith('.svg')) throw new UserError(`--plot writes SVG: give a file name ending in .svg, not '${opts.plot}'`);
      if (opts.plot !== undefined) checkOutputPath(opts.plot, '--plot');
      const dirFlag = dir === DEFAULT_RUN_DIR ? '' : ` --dir ${dir}`;
      // Each task's default step count, for the x axis (the task table loads only when plotting).
      const steps = opts.plot === undefined ? undefined : await taskSteps();
      if (opts.follow) return void (await followRun(run, location, dir));
      const report = (store: RunReader, live?: boolean) => {
        const id = opts.program !== undefined ? parseProgramId(opts.program) : null;
        const plotted = id ?? store.stats().bestId;
        if (opts.plot !== undefined && plotted === null) throw new UserError(`run '${store.info().name}' has no program to plot yet`);
        const series: CurveSeries[] | null = opts.plot !== undefined && plotted !== null ? curveSeries(store, plotted, steps) : null;
        if (id !== null) {
          const d = programDetail(store, id);
          return { text: opts.json ? JSON.stringify(d, null, 2) : formatProgramDetail(d), series, plotted };
        }
        const r = runReport(store, top, live);
        return { text: opts.json ? JSON.stringify(r, null, 2) : formatRunReport(r, location ? ` --store ${location.display}` : dirFlag), series, plotted };
      };
      const { text, series, plotted } = location
        ? await withPgRun(location, run, async (store, db) => {
            const program = opts.program !== undefined ? parseProgramId(opts.program) : (await store.stats()).bestId;
            const view = await loadRunView(store, { top, ...(program !== null ? { program } : {}) });
            return report(view, await isCoordinated(db, store.id));
          })
        : withRun(run, dir, (store) => report(store));
      if (series && opts.plot) {
        const svg = await lossCurvesSvg(series, `run ${run}: program #${plotted} against the seeds`);
        try {
          fs.writeFileSync(opts.plot, svg);
        } catch (e) {
          throw new UserError(`cannot write ${opts.plot}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
        }
      }
      process.stdout.write(text + '\n');
      if (series && opts.plot && !opts.json) process.stdout.write(`wrote loss curves of #${plotted} to ${opts.plot}\n`);
    });
}
