/**
 * Settings tables (search/settings.ts) as commander options: each row becomes
 * an option with its help and default, and a command's options are read back
 * through the same rows. A mistake is a one-line UserError.
 */
import type { Command } from 'commander';
import { SettingError, flagOf, helpOf, readSettings, type DefaultContext, type Setting } from '../../search/settings.js';
import { UserError } from './errors.js';

/** Adds the options of these rows to a command, with their help and defaults. */
export function addSettingOptions(cmd: Command, rows: readonly Setting[]): Command {
  for (const r of rows) {
    if (r.repeatable) cmd.option(flagOf(r), helpOf(r), (v: string, acc: string[] | undefined) => [...(acc ?? []), v]);
    else cmd.option(flagOf(r), helpOf(r));
  }
  return cmd;
}

/** A command's options read through its rows; a mistake is a UserError. */
export function readCommandSettings<const R extends readonly Setting[]>(rows: R, opts: Readonly<Record<string, unknown>>, ctx?: Omit<DefaultContext, 'values'>) {
  try {
    return readSettings(rows, opts, ctx);
  } catch (e) {
    if (e instanceof SettingError) throw new UserError(e.message);
    throw e;
  }
}
