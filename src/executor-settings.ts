/**
 * The executor's settings (rows of the settings table, scope `machine`): how
 * many worker threads, on which tfjs backend, and how long one evaluation may
 * take. They change neither children nor scores, so a resumed run may change
 * them.
 */
import { z } from 'zod';
import { read, schemaOf, type DefaultContext, type Setting } from '../search/settings.js';
import { BACKEND_NAMES } from './backend.js';

const machine = <const S extends Omit<Setting, 'scope'>>(row: S) => ({ ...row, scope: 'machine' as const });

export const EXECUTOR_SETTINGS = [
  machine({
    key: 'workers',
    arg: '<n>',
    help: 'worker threads',
    read: read.number,
    schema: z.number().int().min(1),
    default: { derive: (c: DefaultContext) => Math.max(1, c.cores), text: 'the number of cores' },
  }),
  machine({
    key: 'evalTimeout',
    arg: '<s>',
    help: 'seconds one evaluation may take before its worker is stopped',
    read: read.number,
    schema: z.number().positive(),
    default: { value: 300 },
  }),
  machine({
    key: 'backend',
    arg: '<name>',
    help: `tfjs backend: ${BACKEND_NAMES.join(', ')}`,
    read: read.text,
    schema: z.enum(BACKEND_NAMES as unknown as [string, ...string[]]),
    default: { value: 'auto' },
  }),
] as const satisfies readonly Setting[];

export const ExecutorConfigSchema = schemaOf(EXECUTOR_SETTINGS);

export interface ExecutorConfig {
  workers: number;
  evalTimeout: number;
  backend: (typeof BACKEND_NAMES)[number];
}
