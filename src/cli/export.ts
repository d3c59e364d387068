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
import { exportProgram, programFileFor } from '../inspect/program.js';
import { parseProgramId } from '../inspect/open.js';
import { loadRunView } from '../inspect/pg-view.js';
import type { StoreLocation } from '../../search/postgres/url.js';
import { withPgRun } from './pg-open.js';
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

function writeOut(text: string, output: string | undefined): void {
  if (output) fs.writeFileSync(output, text);
  else process.stdout.write(text);
}

export interface ExportOptions {
  store?: string;
  format?: string;
  output?: string;
  runDir?: string;
  program?: string;
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
    .option('--format <format>', 'output format: jsonl', 'jsonl')
    .option('--output <file>', 'write to FILE instead of stdout (written whole, then renamed into place)')
    .option('--run-dir <dir>', 'folder of runs (default runs)')
    .option('--program <id>', 'write this program as a .opt file instead (what check, eval and createOptimizer read)')
    .option('--simplified', 'with --program: the simplified form instead of the source as trained')
    .option('--store <url>', STORE_HELP)
    .action(async (run: string, opts: ExportOptions) => {
      const location = storeOption(opts.store);
      if (opts.program !== undefined) {
        const text = location
          ? await withPgRun(location, run, async (store) => {
              const id = parseProgramId(opts.program!);
              return exportProgram(await loadRunView(store, { program: id }), id, { simplified: opts.simplified });
            })
          : programFileFor(run, { program: opts.program, dir: opts.runDir, simplified: opts.simplified });
        return void writeOut(text, opts.output);
      }
      if (opts.format !== 'jsonl') throw new UserError(`--format: '${opts.format}' is not a format (formats: jsonl)`);
      const runDir = opts.runDir ? { runDir: opts.runDir } : {};
      const exportAny = (write: (line: string) => void): Promise<number> | number => (location ? exportPgRun(location, run, write) : exportRun(run, write, runDir));
      if (!opts.output) {
        await exportAny((l) => process.stdout.write(l));
        return;
      }
      // Write beside the target and rename, so a failed export leaves nothing half-written.
      const tmp = `${opts.output}.${process.pid}.tmp`;
      const fd = fs.openSync(tmp, 'w');
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
        throw e;
      }
    });
}
