/**
 * The CLI as the tests run it: in-process (`cli`: quick, for the many
 * one-line cases; a process start costs seconds on a busy machine) or as the
 * built program in a child process (`cliProcess`: as a user runs it; `npm
 * test` builds first).
 */
import { spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process';
import { vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

/** The built CLI's entry file. */
export const CLI = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;

/** `optevo ARGS` in-process, from the working directory `cwd` if given: exit code, stdout, stderr. */
export async function cli(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true));
  const before = process.cwd();
  let code: number;
  try {
    if (cwd) process.chdir(cwd);
    process.exitCode = undefined;
    code = await main(args);
  } finally {
    process.chdir(before);
    process.exitCode = undefined;
    o.mockRestore();
    e.mockRestore();
  }
  return { code, out, err };
}

/** The built `optevo ARGS` in a child process, to its end. */
export function cliProcess(args: string[], opts: Omit<SpawnSyncOptionsWithStringEncoding, 'encoding'> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', ...opts });
}
