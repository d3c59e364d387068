/**
 * Standard-suite candidates per hour through the search's own executor: the
 * piscina pool (src/pool.ts), N worker threads each with its own tfjs engine
 * on one backend. On webgpu the threads share the GPU; the main thread
 * prepares what the GPU needs before they start (prepareWorkersBackend), as
 * `optevo search` does.
 *
 *   node gpu-pool.js --backend webgpu|wasm --workers N --seconds S [--worker FILE] [--suite quick]
 *
 * Children are bred as in bench/gpu.ts (the search's mutator, checked and
 * deduplicated by fingerprint). Jobs are kept queued so that no worker
 * waits; candidates finished within S seconds (after the workers' first
 * results, so start-up is not counted) make the figure. Prints one JSON object.
 */
import { prepareWorkersBackend } from '../src/backend.js';
import { WorkerPool } from '../src/pool.js';
import { setWebgpuBackendLoader } from '../src/webgpu.js';
import { children } from './gpu-children.js';

setWebgpuBackendLoader(() => import('@tensorflow/tfjs-backend-webgpu'));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const backend = arg('backend');
  if (backend !== 'webgpu' && backend !== 'wasm') throw new Error('usage: gpu-pool.js --backend webgpu|wasm --workers N --seconds S [--worker FILE]');
  const workers = Number(arg('workers') ?? 2);
  const seconds = Number(arg('seconds') ?? 60);
  const file = arg('worker');
  const suite = arg('suite') === 'quick' ? 'quick' : 'standard';
  await prepareWorkersBackend(backend);
  const logs: string[] = [];
  const pool = new WorkerPool({ workers, timeoutMs: 900_000, backend, ...(file ? { filename: file } : {}), onLog: (l, m) => void (l !== 'info' && logs.push(m)) });
  const list = children(400);
  let next = 0;
  let done = 0;
  let errors = 0;
  let firstError = '';
  let t0 = 0;
  let inWindow = 0;
  let stop = false;
  const t00 = performance.now();
  const one = async (): Promise<void> => {
    while (!stop && next < list.length) {
      const childId = next++;
      const out = await pool.evaluate({ childId, source: list[childId]!, suite, seed: 0, lrs: [] });
      const failure = out.ok ? out.result.tasks.map((t) => t.failure ?? '').find((f) => /error:/.test(f)) : out.reason;
      if (failure) {
        errors++;
        firstError ||= failure;
        // A backend that cannot start fails every job at once: stop rather than run through the list.
        if (errors >= workers * 2) stop = true;
      }
      done++;
      const now = performance.now();
      // The clock starts when every worker has delivered once (engines up, shaders and data warm).
      if (t0 === 0 && done >= workers) t0 = now;
      else if (t0 > 0) {
        if (now - t0 <= seconds * 1000) inWindow++;
        else stop = true;
      }
      if (now - t00 > (seconds + 300) * 1000) stop = true;
    }
  };
  // Two jobs per worker in flight: the next job is always waiting.
  await Promise.all(Array.from({ length: workers * 2 }, one));
  await pool.close();
  const s = t0 === 0 ? 0 : Math.min(seconds, (performance.now() - t0) / 1000);
  if (errors) throw new Error(`${errors} of ${done} candidates failed with errors, e.g. ${firstError}${logs.length ? ` (worker log: ${logs[0]})` : ''}`);
  process.stdout.write(JSON.stringify({ backend, workers, trained: inWindow, seconds: s, perHour: s > 0 ? (inWindow / s) * 3600 : 0, started: done }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`gpu-pool.js: ${String((e as Error)?.message ?? e)}\n`);
  process.exitCode = 1;
});
