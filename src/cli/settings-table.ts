/**
 * The README's table of `optevo search` settings, made from the same rows as
 * `--help`, so that the two cannot drift apart (test/src/cli/readme-settings.test.ts
 * compares them; `node scripts/readme-settings.mjs` rewrites the README's copy).
 */
import { flagOf, helpOf } from '../../search/settings.js';
import { SEARCH_SETTINGS } from './search-options.js';

export const TABLE_START = '<!-- settings table: made by scripts/readme-settings.mjs from the settings rows -->';
export const TABLE_END = '<!-- end of settings table -->';

/** One markdown row per setting: flag, scope, help with its default. */
export function settingsTable(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = SEARCH_SETTINGS.map((r) => `| \`${flagOf(r)}\` | ${r.scope} | ${cell(helpOf(r))} |`);
  return ['| flag | scope | what (default) |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The README with its settings table replaced by the current one. */
export function withSettingsTable(readme: string): string {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`the README has no settings table between '${TABLE_START}' and '${TABLE_END}'`);
  return `${readme.slice(0, a + TABLE_START.length)}\n${settingsTable()}\n${readme.slice(b)}`;
}
