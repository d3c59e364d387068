/**
 * What a store reads back about a run, besides its children (child-row.ts):
 * its status, seeds and counters (JSON in PostgreSQL, rows and JSON text in
 * SQLite), checked, never cast.
 */
import { z } from 'zod';
import type { RunStatus } from './run-store.js';
import { ZERO_WORKER_TIME } from './worker-time.js';

export const RUN_STATUSES = ['running', 'stopped', 'done'] as const satisfies readonly RunStatus[];

export const SeedsSchema = z.array(z.object({ name: z.string(), source: z.string() }));

const count = z.number().int().min(0);

/** Counters written before worker-time accounting lack `bestHeld` and `workerTime`. */
export const CountersSchema = z.object({
  committed: count,
  ok: count,
  pruned: count,
  cached: count,
  invalid: count,
  failed: count,
  bestId: z.number().int().nullable(),
  bestFitness: z.number().nullable(),
  lastImprovement: count,
  restarts: count,
  elapsedMs: z.number().min(0),
  bestHeld: z.number().nullable().default(null),
  workerTime: z
    .object({ novel: z.number(), reference: z.number(), metaval: z.number(), reeval: z.number(), capacity: z.number() })
    .default({ ...ZERO_WORKER_TIME }),
});
