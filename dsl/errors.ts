import type { Pos } from './ast.js';

/**
 * An error in a program: where it is and what was expected. The message is
 * one line; `toString` gives the `FILE:LINE:COL: message` form the CLI prints.
 */
export class DslError extends Error {
  readonly line: number;
  readonly column: number;
  file: string | undefined;

  constructor(message: string, pos: Pos | undefined, file?: string) {
    super(message);
    this.name = 'DslError';
    this.line = pos?.line ?? 1;
    this.column = pos?.column ?? 1;
    this.file = file;
  }

  get location(): string {
    return `${this.file ?? '<program>'}:${this.line}:${this.column}`;
  }

  override toString(): string {
    return `${this.location}: ${this.message}`;
  }
}

/**
 * The message of anything thrown: an Error's message, else the value as
 * text. The one way every layer turns a caught value into words.
 */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
