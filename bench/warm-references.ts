/**
 * Fills this machine's reference cache (src/reference-cache.ts) for one
 * suite and evaluation seed, as a search with the default rates, steps and
 * sweep would ask for them: one job per task. A benchmark that measures
 * meta-validation on the large held-out suite (D2) can then start from a
 * machine that has run a search before, which is where a researcher's
 * second search starts; the figures say when it did.
 *
 * Run: npm run build && node dist/bench/warm-references.js [--suite metaval] [--seed 1] [--workers 2] [--backend auto]
 */
import { evalJob } from '../search/judge.js';
import { referenceJobKey } from '../search/reference-cache.js';
import type { SuiteName } from '../search/types.js';
import { prepareWorkersBackend, type BackendName } from '../src/backend.js';
import { taskRegistry } from '../src/cli/task-options.js';
import { WorkerPool } from '../src/pool.js';
import { referenceSources } from '../src/reference.js';
import { diskReferenceCache } from '../src/reference-cache.js';
import { arg, cpuMs } from './process.js';

const suite = (arg('--suite', 'metaval') ?? 'metaval') as SuiteName;
const seed = Number(arg('--seed', '1'));
const workers = Number(arg('--workers', '2'));
const backend = (arg('--backend', 'auto') ?? 'auto') as BackendName;

const cache = diskReferenceCache({ backend });
const registry = await taskRegistry(undefined);
const { reference } = referenceSources();
const jobs = registry.suite(suite).map((t) => ({ ...evalJob({ evalSeed: seed, lrs: [], steps: undefined }, 0, reference, suite), score: false, tasks: [t.name] }));
const todo = jobs.filter((j) => !cache.get(referenceJobKey(j)));
process.stdout.write(`${suite} suite, seed ${seed}, backend ${backend}: ${jobs.length - todo.length} of ${jobs.length} tasks cached, ${todo.length} to run on ${workers} workers\n`);
if (todo.length > 0) {
  await prepareWorkersBackend(backend);
  const pool = new WorkerPool({ workers, timeoutMs: 3 * 3600_000, backend });
  const t0 = Date.now();
  const c0 = cpuMs();
  await Promise.all(
    todo.map(async (j) => {
      const out = await pool.evaluate(j);
      if (!out.ok) throw new Error(`${j.tasks[0]}: ${out.reason}`);
      cache.put(referenceJobKey(j), out.result);
      process.stdout.write(`${j.tasks[0]}: ${(out.result.ms / 1000).toFixed(1)} s\n`);
    }),
  );
  await pool.close();
  process.stdout.write(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s wall (${((cpuMs() - c0) / 1000).toFixed(0)} s CPU of this process)\n`);
}
