/**
 * The children a short search would send to training, for the device
 * check's throughput figures: bred from several seeds by the search's own
 * mutator, checked and deduplicated by functional fingerprint as the search
 * does, in a fixed order.
 */
import { parse } from '../dsl/parse.js';
import { print } from '../dsl/print.js';
import { makeMutator } from '../search/mutate.js';
import { prepare } from '../search/prepare.js';
import { Rng } from '../dsl/random.js';
import { seedSource } from '../seeds/index.js';

export function children(n: number): string[] {
  const seeds = ['adamw', 'lion', 'adam', 'momentum', 'rmsprop', 'nadam'].map((s) => parse(seedSource(s)));
  const mutate = makeMutator({ weights: { insert: 1, delete: 1, modify: 1 }, maxStatements: 30 });
  const seen = new Set<string>();
  const out: string[] = [];
  let pool = [...seeds];
  for (let i = 0; out.length < n && i < n * 50; i++) {
    const rng = Rng.derive('gpu-bench', i);
    const parent = pool[rng.int(pool.length)]!;
    const child = mutate(parent, rng).program;
    const prep = prepare(child);
    if (!prep.ok || seen.has(prep.fingerprint)) continue;
    seen.add(prep.fingerprint);
    out.push(print(child));
    pool.push(child);
    if (pool.length > 50) pool = pool.slice(-50);
  }
  return out;
}
