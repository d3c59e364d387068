#!/usr/bin/env node
// Rewrites the README's table of search settings from the settings rows (run `npm run build` first).
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withSettingsTable } from '../dist/src/cli/settings-table.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
fs.writeFileSync(readme, withSettingsTable(fs.readFileSync(readme, 'utf8')));
