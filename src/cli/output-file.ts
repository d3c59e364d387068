/**
 * Files the CLI writes (`--output`, `--plot`). Checked before any work, so
 * that a typo in a path does not cost a training run; written beside the
 * target and renamed into place, so that a failure never leaves half a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from './errors.js';
import { describeFsError } from './fs-errors.js';

/** Throws a one-line UserError unless `file` can be written: its folder exists and is writable, and it is not a folder. */
export function checkOutputPath(file: string, flag: string): void {
  const dir = path.dirname(path.resolve(file));
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    // a new file
  }
  if (st?.isDirectory()) throw new UserError(`${flag}: ${file} is a folder; give a file name`);
  try {
    if (!fs.statSync(dir).isDirectory()) throw new UserError(`${flag}: cannot write ${file} (${dir} is not a folder)`);
    fs.accessSync(dir, fs.constants.W_OK);
    if (st) fs.accessSync(file, fs.constants.W_OK);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${flag}: cannot write ${file} (${describeFsError(e)})`);
  }
}

/** Writes `text` to `file` whole (temporary file, then rename); a one-line UserError on failure. */
export function writeOutputFile(file: string, text: string, flag: string): void {
  checkOutputPath(file, flag);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(`${flag}: cannot write ${file} (${describeFsError(e)})`);
  }
}
