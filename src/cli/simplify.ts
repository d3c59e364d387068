import type { Command } from 'commander';
import { analyze } from '../../dsl/analyze.js';
import { flatten } from '../../dsl/flatten.js';
import { print } from '../../dsl/print.js';
import { removeDead } from '../../dsl/simplify.js';
import { readProgram } from './program-file.js';

export function register(program: Command): void {
  program
    .command('simplify')
    .description('print the simplified form of a program: dead statements removed, constants folded, exact identities applied')
    .argument('<file>', 'program file (.opt)')
    .option('--dead-only', 'only remove dead statements (keep names, order and constants)')
    .option('--json', 'statement counts before and after, and both fingerprints')
    .action((file: string, opts: { json?: boolean; deadOnly?: boolean }) => {
      const p = readProgram(file);
      const a = analyze(p, { file });
      const out = opts.deadOnly ? removeDead(flatten(p)) : a.simplified;
      if (opts.json) {
        process.stdout.write(
          JSON.stringify(
            {
              file,
              statementsBefore: flatten(p).body.length,
              statementsAfter: out.body.length,
              structuralHash: a.hash,
              functionalFingerprint: a.fingerprint,
              simplified: print(out),
            },
            null,
            2,
          ) + '\n',
        );
      } else process.stdout.write(print(out));
    });
}
