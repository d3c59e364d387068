/**
 * Language throughput: check + simplify + structural hash + functional
 * fingerprint of 20-statement programs made by mutation from AdamW, on one
 * core (this thread). The search runs this for every child, so it must never
 * be what limits a search: the bar is 10,000 programs a second.
 */
import { analyze } from '../dsl/analyze.js';
import { check } from '../dsl/check.js';
import { DslError } from '../dsl/errors.js';
import { flatten } from '../dsl/flatten.js';
import type { Program } from '../dsl/ast.js';
import { makeMutator } from '../search/mutate.js';
import { Rng } from '../dsl/random.js';
import { seedProgram } from '../seeds/index.js';

export interface DslBench {
  programs: number;
  valid: number;
  perSecond: number;
  validPerSecond: number;
  meanStatementsAfter: number;
}

export function makePrograms(n: number, statements = 20, seed = 1): Program[] {
  const mutate = makeMutator({ weights: { insert: 1, delete: 1, modify: 1 }, maxStatements: statements });
  const rng = Rng.derive('bench', seed);
  const out: Program[] = [];
  const start = flatten(seedProgram('adamw'));
  while (out.length < n) {
    // A lineage as evolution makes one: only valid children are kept. At
    // least a few mutations, then the first program of the wanted length.
    let p = start;
    for (let k = 0; k < 400; k++) {
      const child = mutate(p, rng).program;
      try {
        check(child);
      } catch {
        continue;
      }
      p = child;
      if (k >= 5 && p.body.length === statements) {
        out.push(p);
        break;
      }
    }
  }
  return out;
}

export function benchDsl(programs: Program[], seconds = 3): DslBench {
  let done = 0;
  let valid = 0;
  let after = 0;
  // CPU time of this thread, not wall time: the machine is shared and noisy.
  const c0 = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    for (const p of programs) {
      try {
        const a = analyze(p);
        valid++;
        after += a.size;
      } catch (e) {
        if (!(e instanceof DslError)) throw e;
      }
      done++;
    }
  }
  const c = process.cpuUsage(c0);
  const s = (c.user + c.system) / 1e6;
  return { programs: done, valid, perSecond: done / s, validPerSecond: valid / s, meanStatementsAfter: after / Math.max(1, valid) };
}

export async function main(): Promise<void> {
  const programs = makePrograms(1000);
  benchDsl(programs.slice(0, 200), 0.5); // warm up the JIT
  const r = benchDsl(programs);
  console.log(`dsl: check+simplify+hash+fingerprint of 20-statement mutants of AdamW: ${r.perSecond.toFixed(0)} programs per CPU-second (one core) (${r.validPerSecond.toFixed(0)} valid/s; ${((100 * r.valid) / r.programs).toFixed(0)}% valid; ${r.meanStatementsAfter.toFixed(1)} statements after simplification) [bar: 10000/s]`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
