import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { settingsTable, TABLE_END, TABLE_START, withSettingsTable } from '../../../src/cli/settings-table.js';
import { SEARCH_SETTINGS } from '../../../src/cli/search-options.js';
import { flagOf } from '../../../search/settings.js';

const readme = fs.readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe("the README's table of search settings", () => {
  it('is the one the settings rows make (rewrite it with: npm run build && node scripts/readme-settings.mjs)', () => {
    expect(readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END))).toBe(`${TABLE_START}\n${settingsTable()}\n`);
  });

  it('has a row for every flag of optevo search, and only those', () => {
    const flags = [...settingsTable().matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(flags).toEqual(SEARCH_SETTINGS.map(flagOf));
    expect(flags).toContain('--metaval-suite <name>');
  });

  it('refuses a README without the markers', () => {
    expect(() => withSettingsTable('# nothing here\n')).toThrow(/no settings table/);
  });
});
