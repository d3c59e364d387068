import type { Command } from 'commander';
import { UserError } from './errors.js';

// Placeholder until this command's issue lands; it is replaced, not extended.
export function register(program: Command): void {
  program
    .command('export')
    .description('(not built yet)')
    .action(() => {
      throw new UserError("'export' is not built yet");
    });
}
