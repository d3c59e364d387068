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
import { programFileFor } from '../inspect/program.js';

function writeOut(text: string, output: string | undefined): void {
  if (output) fs.writeFileSync(output, text);
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
    .option('--format <format>', 'output format: jsonl', 'jsonl')
    .option('--output <file>', 'write to FILE instead of stdout (written whole, then renamed into place)')
    .option('--run-dir <dir>', 'folder of runs (default runs)')
    .option('--program <id>', 'write this program as a .opt file instead (what check, eval and createOptimizer read)')
    .option('--best', "write the program the run recommends as a .opt file (the funnel: best on meta-validation among the top on fitness; see 'optevo show')")
    .option('--simplified', 'with --program or --best: the simplified form instead of the source as trained')
    .action((run: string, opts: ExportOptions) => {
      if (opts.best && opts.program !== undefined) throw new UserError('give --best or --program, not both');
      if (opts.best) return void writeOut(programFileFor(run, { best: true, dir: opts.runDir, simplified: opts.simplified }), opts.output);
      if (opts.program !== undefined) return void writeOut(programFileFor(run, { program: opts.program, dir: opts.runDir, simplified: opts.simplified }), opts.output);
      if (opts.format !== 'jsonl') throw new UserError(`--format: '${opts.format}' is not a format (formats: jsonl)`);
      const runDir = opts.runDir ? { runDir: opts.runDir } : {};
      if (!opts.output) {
        exportRun(run, (l) => process.stdout.write(l), runDir);
        return;
      }
      // Write beside the target and rename, so a failed export leaves nothing half-written.
      const tmp = `${opts.output}.${process.pid}.tmp`;
      const fd = fs.openSync(tmp, 'w');
      try {
        exportRun(run, (l) => fs.writeSync(fd, l), runDir);
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
