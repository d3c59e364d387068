/**
 * `optevo export RUN`: every child of a run, one JSON object a line (JSONL),
 * in id order, to stdout or `--output FILE`. The objects are the store's
 * ChildRecord (search/types.ts): id, parent, mutation, source, simplified
 * source, hash, fingerprint, status, fitness, quick and standard suite results
 * (per-task scores, best rates, curves), meta-validation fitness, timings.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { SqliteRunStore, StoreError } from '../../search/store.js';
import { UserError } from './errors.js';
import { describeFsError } from './fs-errors.js';
import { programFileFor } from '../inspect/program.js';
import { childOrFail, parseProgramId, withRun } from '../inspect/open.js';
import { checkOutputPath, writeOutputFile } from './output-file.js';
import { exportProgram } from '../inspect/program.js';
import { loadRunView } from '../inspect/pg-view.js';
import type { StoreLocation } from '../../search/postgres/url.js';
import { withPgRun } from './pg-open.js';
import { recommendation } from '../inspect/run-report.js';
import { STORE_HELP, storeOption } from './store-option.js';

/** The same JSONL from a run kept in PostgreSQL (children read a page at a time). */
export async function exportPgRun(location: StoreLocation, run: string, write: (line: string) => void): Promise<number> {
  return withPgRun(location, run, async (store) => {
    let n = 0;
    for await (const c of store.iterateChildren()) {
      write(JSON.stringify(c) + '\n');
      n++;
    }
    return n;
  });
}

/** The id of the program the run recommends (`--best`). */
function bestIdOrFail(run: string, dir: string | undefined): number {
  return withRun(run, dir, (store) => {
    const r = recommendation(store);
    if (r === null) throw new UserError(`run '${store.info().name}' has no trained program yet`);
    return r.id;
  });
}

function writeOut(text: string, output: string | undefined): void {
  if (output) writeOutputFile(output, text, '--output');
  else process.stdout.write(text);
}

export interface ExportOptions {
  format?: string;
  output?: string;
  runDir?: string;
  program?: string;
  best?: boolean;
  simplified?: boolean;
}

/** Writes the run's children as JSONL; returns how many. */
export function exportRun(run: string, write: (line: string) => void, opts: { runDir?: string } = {}): number {
  let store: SqliteRunStore;
  try {
    store = SqliteRunStore.open(run, { readonly: true, ...(opts.runDir ? { runDir: opts.runDir } : {}) });
  } catch (e) {
    if (e instanceof StoreError) throw new UserError(e.message);
    throw e;
  }
  try {
    let n = 0;
    for (const c of store.iterateChildren()) {
      write(JSON.stringify(c) + '\n');
      n++;
    }
    return n;
  } finally {
    store.close();
  }
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write every child of a run, one JSON object a line; or one program as a .opt file (--program ID)')
    .argument('<run>', 'a run name under --run-dir, a run folder, or its run.db')
    .option('--format <format>', 'output format: jsonl (every child; with --program, that child) or opt (with --program; its default)')
    .option('--output <file>', 'write to FILE instead of stdout (written whole, then renamed into place)')
    .option('--run-dir <dir>', 'folder of runs (default runs)')
    .option('--program <id>', 'write this program as a .opt file instead (what check, eval and createOptimizer read), with a header giving its run, scores and evaluation settings')
    .option('--best', "write the program the run recommends as a .opt file (the funnel: best on meta-validation among the top on held fitness; see 'optevo show')")
    .option('--simplified', 'with --program or --best: the simplified form, without dead statements or unused state (the default)')
    .option('--as-trained', 'with --program or --best: the source exactly as trained, dead code and all')
    .option('--store <url>', STORE_HELP)
    .action(async (run: string, opts: ExportOptions & { asTrained?: boolean; store?: string }) => {
      const location = storeOption(opts.store);
      if (opts.format !== undefined && opts.format !== 'jsonl' && opts.format !== 'opt') throw new UserError(`--format: '${opts.format}' is not a format (formats: jsonl, opt)`);
      if (opts.output !== undefined) checkOutputPath(opts.output, '--output');
      if (opts.best && opts.program !== undefined) throw new UserError('give --best or --program, not both');
      if (opts.program !== undefined || opts.best) {
        if (opts.asTrained && opts.simplified) throw new UserError('--simplified and --as-trained exclude each other');
        if (location) {
          const text = await withPgRun(location, run, async (store) => {
            let id: number;
            if (opts.best) {
              const r = recommendation(await loadRunView(store, { top: store.config().metavalTop }));
              if (r === null) throw new UserError(`run '${store.info().name}' has no trained program yet`);
              id = r.id;
            } else id = parseProgramId(opts.program!);
            const view = await loadRunView(store, { program: id });
            return opts.format === 'jsonl' ? JSON.stringify(childOrFail(view, id)) + '\n' : exportProgram(view, id, { simplified: !opts.asTrained });
          });
          return void writeOut(text, opts.output);
        }
        if (opts.format === 'jsonl') {
          const id = opts.best ? bestIdOrFail(run, opts.runDir) : parseProgramId(opts.program!);
          return void writeOut(JSON.stringify(withRun(run, opts.runDir, (store) => childOrFail(store, id))) + '\n', opts.output);
        }
        // Simplified by default: an unused state slot as trained would double the optimizer's memory.
        const which = opts.best ? { best: true } : { program: opts.program! };
        return void writeOut(programFileFor(run, { ...which, dir: opts.runDir, simplified: !opts.asTrained }), opts.output);
      }
      if (opts.format === 'opt') throw new UserError('--format opt writes one program: give --program ID or --best');
      const runDir = opts.runDir ? { runDir: opts.runDir } : {};
      const exportAny = (write: (line: string) => void): Promise<number> | number => (location ? exportPgRun(location, run, write) : exportRun(run, write, runDir));
      if (!opts.output) {
        await exportAny((l) => process.stdout.write(l));
        return;
      }
      // Write beside the target and rename, so a failed export leaves nothing half-written.
      const tmp = `${opts.output}.${process.pid}.tmp`;
      let fd: number;
      try {
        fd = fs.openSync(tmp, 'w');
      } catch (e) {
        throw new UserError(`--output: cannot write ${opts.output} (${describeFsError(e)})`);
      }
      try {
        await exportAny((l) => fs.writeSync(fd, l));
        fs.closeSync(fd);
        fs.renameSync(tmp, opts.output);
      } catch (e) {
        try {
          fs.closeSync(fd);
        } catch {
          // closed already
        }
        fs.rmSync(tmp, { force: true });
        if (e instanceof UserError) throw e;
        throw new UserError(`--output: cannot write ${opts.output} (${describeFsError(e)})`);
      }
    });
}
