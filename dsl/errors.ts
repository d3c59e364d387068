import type { Pos } from './ast.js';

/**
 * An error in a program: where it is and what was expected. `message` is one
 * line that starts with the place, `FILE:LINE:COL: ` (or `LINE:COL: ` when the
 * program came from no file), so that it says where wherever it is printed;
 * `reason` is the bare text, and `toString` gives `FILE:LINE:COL: reason`
 * (`<program>` for the file when there is none), the form the CLI prints.
 */
export class DslError extends Error {
  readonly line: number;
  readonly column: number;
  /** What is wrong, without the place. */
  readonly reason: string;
  file: string | undefined;

  constructor(reason: string, pos: Pos | undefined, file?: string) {
    super(reason);
    this.name = 'DslError';
    this.reason = reason;
    this.line = pos?.line ?? 1;
    this.column = pos?.column ?? 1;
    this.file = file;
    // The file may be named after the error is made (`e.file = path`): the message follows it.
    Object.defineProperty(this, 'message', {
      get: () => `${this.file === undefined ? '' : `${this.file}:`}${this.line}:${this.column}: ${this.reason}`,
      configurable: true,
      enumerable: false,
    });
  }

  get location(): string {
    return `${this.file ?? '<program>'}:${this.line}:${this.column}`;
  }

  override toString(): string {
    return `${this.location}: ${this.reason}`;
  }
}

/**
 * The message of anything thrown: an Error's message, else the value as
 * text. The one way every layer turns a caught value into words.
 */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
