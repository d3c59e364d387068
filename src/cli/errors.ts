/**
 * A mistake by the user (bad flag, missing file, invalid program): printed as
 * one line, exit status 1, never a stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Ctrl-C or SIGTERM before anything was written: the command ends with status 130 and nothing to report. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}
