/** The CLI's errors: a mistake by the user is a `UserError` (src/user-error.ts), shared with the inspection commands. */
export { UserError } from '../user-error.js';
