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
