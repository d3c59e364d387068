/**
 * `npm run bench`: every figure the issues ask for, each benchmark in its own
 * process (a fresh tfjs engine, no interference), one after the other.
 * `npm run bench -- NAME...` runs only those; `--quick` asks each for a
 * shorter run where it has one.
 *
 * Every figure is a ratio measured side by side in one run, or a rate in CPU
 * time: the machine is shared and noisy.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

const BENCHES: Record<string, { script: string; args: string[]; quickArgs?: string[]; what: string }> = {
  dsl: { script: 'dsl.js', args: [], what: 'language: check + simplify + fingerprints per second (issue 2)' },
  'optimizer-step': { script: 'optimizer-step.js', args: [], quickArgs: ['--rounds', '5'], what: 'compiled seeds vs tfjs built-ins, per step (issues 2 and 3)' },
  tasks: { script: 'tasks.js', args: [], quickArgs: ['--quick'], what: 'proxy tasks: batched sweep, PyTorch, per-candidate cost, throughput (issue 4)' },
  profile: { script: 'profile.js', args: [], quickArgs: ['--suite', 'quick'], what: 'one standard-suite candidate: CPU time, top kernels, share outside kernels (issue 14)' },
  'fused-step': { script: 'fused-step.js', args: [], quickArgs: ['--rounds', '2'], what: 'optimizer step: fused kernel (SIMD on wasm) vs the compiled tfjs ops, stacked replicas (issue 14)' },
  layers: { script: 'layers.js', args: [], quickArgs: ['--rounds', '1'], what: 'stacked-replica layer forms side by side on wasm (issue 14)' },
  'second-order': { script: 'second-order.js', args: [], quickArgs: ['--quick'], what: 'newton and hessianFree: 8x8 MNIST autoencoder against AdamW and nonlinear CG, cost per product, SciPy iteration counts (issue 16)' },
  'search-scaling': { script: 'search.js', args: ['scaling'], what: 'search: 2 workers vs 1 (issue 5)' },
  'search-cache': { script: 'search.js', args: ['cache'], what: 'search: never-trained share and cache hits in 1,000 children (issue 5)' },
  'search-defaults': { script: 'search.js', args: ['defaults'], what: 'search: children per hour with the defaults (issue 5)' },
  'distributed-overhead': { script: 'distributed.js', args: ['overhead'], what: 'many machines: queue jobs/s through PostgreSQL vs the in-process pool (issue 12)' },
  'distributed-scaling': { script: 'distributed.js', args: ['scaling'], what: 'many machines: 1, 2 and 4 worker processes on real quick-suite evaluations (issue 12)' },
  'distributed-identity': { script: 'distributed.js', args: ['identity'], what: 'many machines: 1-worker SQLite export vs 3-host PostgreSQL run with a host killed (issue 12)' },
  'search-discovery': { script: 'search.js', args: ['discovery'], what: 'search: from sgd on the quick suite, 2,000 children (issue 5; long)' },
  d1: { script: 'discovery.js', args: ['d1'], quickArgs: ['--time', '5m', '--seeds', '1'], what: 'D1: from sgd on the quick suite, 30 minutes at 3 seeds, against Adam (issue 11; long)' },
  d2: { script: 'discovery.js', args: ['d2'], quickArgs: ['--time', '10m'], what: "D2: from adamw on the default suite, 60 minutes: the recommended program's meta-validation (issue 11; long)" },
  'warm-references': { script: 'warm-references.js', args: [], what: "fills this machine's reference cache: AdamW on the metaval suite at seed 1, D2's held-out reference (long)" },
};

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const names = argv.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length) {
  process.stderr.write(`optevo bench: unknown benchmark ${unknown.map((u) => `'${u}'`).join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(1);
}
let failed = 0;
for (const name of names.length ? names : Object.keys(BENCHES).filter((n) => !['search-discovery', 'd1', 'd2', 'warm-references'].includes(n))) {
  const b = BENCHES[name]!;
  process.stdout.write(`\n== ${name}: ${b.what}\n`);
  const r = spawnSync(process.execPath, [here(b.script), ...b.args, ...(quick ? (b.quickArgs ?? []) : [])], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`== ${name} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exitCode = failed ? 1 : 0;
