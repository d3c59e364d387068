/** The CLI's errors. A mistake by the user is a `UserError` (src/user-error.ts, shared with the inspection commands). */
export { UserError } from '../user-error.js';

/** Ctrl-C or SIGTERM before anything was written: the command ends with status 130 and nothing to report. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}
