/**
 * Where seed programs' text comes from, in Node: the `.opt` files on disk.
 * The library package's build replaces this module with one that holds every
 * file's text as a string (packages/optimizers/build.mjs), so the library
 * reads no file and runs in a browser. Keep this module's exports and the
 * build's stand-in in step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let dir: URL | undefined;
/**
 * The folder of the `.opt` files: beside this module when it runs from source,
 * `../../seeds/` when it runs as `dist/seeds/source.js` (tsc does not copy them).
 */
function seedDir(): URL {
  if (dir) return dir;
  for (const rel of ['./', '../../seeds/']) {
    const candidate = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(new URL('sgd.opt', candidate)))) return (dir = candidate);
  }
  throw new Error(`optevo: the seed programs (seeds/*.opt) are missing beside ${fileURLToPath(import.meta.url)}`);
}

/** Path of a program file under `seeds/`, e.g. `adam.opt` or `tfjs/adagrad.opt`. */
export function seedFilePath(file: string): string {
  return fileURLToPath(new URL(file, seedDir()));
}

/** The text of a program file under `seeds/`. */
export function readSeedFile(file: string): string {
  return readFileSync(seedFilePath(file), 'utf8');
}
