/** Reading program files for the CLI: a missing file is a user error, not a crash. */
import { readFileSync } from 'node:fs';
import type { Program } from '../../dsl/ast.js';
import { check } from '../../dsl/check.js';
import { parse } from '../../dsl/parse.js';
import { UserError } from './errors.js';

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? 'error'})`);
  }
}

/** Parses and checks a program file; throws DslError (with the file name) or UserError. */
export function readProgram(file: string): Program {
  const p = parse(readText(file), { file });
  check(p, { file });
  return p;
}
