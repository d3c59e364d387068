#!/usr/bin/env node
/**
 * The `optevo` command. Each subcommand lives in its own file and registers
 * itself on the program; this file only wires them and turns user errors into
 * one-line messages with exit status 1.
 */
import { Command, CommanderError } from 'commander';
import { DslError } from '../../dsl/errors.js';
import { Interrupted, UserError } from './errors.js';
import { watchStdout } from './stdout.js';
import { register as check } from './check.js';
import { register as simplify } from './simplify.js';
import { register as seeds } from './seeds.js';
import { register as tasks } from './tasks.js';
import { register as evalCmd } from './eval.js';
import { register as search } from './search.js';
import { register as runs } from './runs.js';
import { register as show } from './show.js';
import { register as exportCmd } from './export.js';
import { register as bench } from './bench.js';
import { register as demo } from './demo.js';

export function buildProgram(): Command {
  const program = new Command('optevo')
    .description('Discover optimizers by evolving small symbolic programs, and replay them as TensorFlow.js optimizers')
    .version('0.1.0')
    .exitOverride()
    // Commander's errors (unknown flag, missing argument) as one line, like ours.
    .configureOutput({
      outputError: (str, write) =>
        write(
          `optevo: ${str
            .replace(/^error: /, '')
            .replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)')
            .trim()} (see --help)\n`,
        ),
    });
  for (const reg of [search, runs, show, check, simplify, evalCmd, tasks, seeds, bench, exportCmd, demo]) reg(program);
  return program;
}

/** One line for anything the user can fix; a stack trace only for our own bugs. */
export function describeError(err: unknown): { message: string; code: number } {
  if (err instanceof DslError) return { message: err.toString(), code: 1 };
  if (err instanceof UserError) return { message: `optevo: ${err.message}`, code: 1 };
  if (err instanceof Interrupted) return { message: 'optevo: interrupted (nothing was written)', code: 130 };
  if (err instanceof CommanderError) return { message: '', code: err.exitCode === 0 ? 0 : 1 };
  const e = err as Error;
  return { message: `optevo: internal error: ${e?.stack ?? String(err)}`, code: 2 };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const { message, code } = describeError(err);
    if (message) process.stderr.write(message + '\n');
    return code;
  }
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry || process.argv[1]?.endsWith('/optevo')) {
  watchStdout();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`optevo: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
