import type { Command } from 'commander';
import { DslError } from '../../dsl/errors.js';
import { readProgram } from './program-file.js';
import { UserError } from './errors.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('check optimizer programs: print FILE: ok for each valid one and FILE:LINE:COL: message for each error; exit 0 when all are valid')
    .argument('<files...>', 'program files (.opt)')
    .option('--json', 'print one JSON object per file')
    .action((files: string[], opts: { json?: boolean }) => {
      let bad = 0;
      for (const file of files) {
        try {
          readProgram(file);
          process.stdout.write(opts.json ? JSON.stringify({ file, ok: true }) + '\n' : `${file}: ok\n`);
        } catch (e) {
          if (!(e instanceof DslError) && !(e instanceof UserError)) throw e;
          bad++;
          if (opts.json) {
            const err = e instanceof DslError ? { line: e.line, column: e.column, message: e.reason } : { message: e.message };
            process.stdout.write(JSON.stringify({ file, ok: false, ...err }) + '\n');
          } else process.stderr.write((e instanceof DslError ? e.toString() : `optevo: ${e.message}`) + '\n');
        }
      }
      if (bad) process.exitCode = 1;
    });
}
