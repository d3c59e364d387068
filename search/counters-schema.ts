/**
 * The run's counters as a store reads them back (a JSON object in
 * PostgreSQL, key/value rows in SQLite): checked, never cast. Counters
 * written before worker-time accounting lack `bestHeld` and `workerTime`.
 */
import { z } from 'zod';
import { ZERO_WORKER_TIME } from './worker-time.js';

const count = z.number().int().min(0);

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
