/**
 * `optevo tasks`: the proxy tasks with their suite, parameter count, default
 * steps and batch size, and where their data comes from.
 */
import type { Command } from 'commander';
import type { SuiteName } from '../tasks/types.js';
import { SUITES } from '../tasks/registry.js';
import { paramCount, type Task } from '../tasks/types.js';
import { UserError } from './errors.js';
import { taskRegistry } from './task-options.js';

export function describeTask(t: Task) {
  return {
    name: t.name,
    suite: t.suite,
    params: paramCount(t),
    steps: t.steps,
    batchSize: t.batching === 'full' ? null : t.batching === 'online' ? 1 : t.batchSize,
    batching: t.batching,
    metric: t.metricName,
    source: t.source,
    description: t.description,
    runs: t.kind === 'array' ? 'float64 interpreter' : 'tfjs',
    custom: t.custom === true,
  };
}

export function register(program: Command): void {
  program
    .command('tasks')
    .description('list the proxy tasks: suite, parameters, default steps and batch size, data source')
    .option('--suite <name>', `only one suite (${SUITES.join(', ')})`)
    .option('--tasks-module <file>', 'also list the tasks a module exports (made with defineTask)')
    .option('--json', 'print data')
    .action(async (opts: { suite?: string; tasksModule?: string; json?: boolean }) => {
      if (opts.suite !== undefined && !SUITES.includes(opts.suite as SuiteName)) throw new UserError(`unknown suite '${opts.suite}' (suites: ${SUITES.join(', ')})`);
      const reg = await taskRegistry(opts.tasksModule);
      const tasks = (opts.suite ? reg.suite(opts.suite as SuiteName) : reg.all()).map(describeTask);
      if (opts.json) {
        process.stdout.write(JSON.stringify(tasks, null, 2) + '\n');
        return;
      }
      const rows = [
        ['task', 'suite', 'params', 'steps', 'batch', 'data', 'model'],
        ...tasks.map((t) => [t.name, t.suite, String(t.params), String(t.steps), t.batchSize === null ? 'full' : String(t.batchSize), t.source, t.description]),
      ];
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : c === 2 || c === 3 || c === 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  '));
      process.stdout.write(lines.join('\n') + '\n');
    });
}
