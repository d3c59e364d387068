/**
 * This optevo's version, from its package.json (found from this module
 * whether it runs from dist/ or from source). Workers compare it with the
 * version a run was started with: scores from another version may differ.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

function readVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const p = fileURLToPath(new URL(rel, import.meta.url));
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'optevo' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next place
    }
  }
  return '0.0.0';
}

export const OPTEVO_VERSION: string = readVersion();
