/**
 * The reference optimizer that scores are normalised against, and its twin:
 * AdamW with epsilon halved, a change that cannot matter to training, whose
 * scores against AdamW measure a suite's noise (search/selection.ts). A
 * module of its own so that the CLI can name them without loading tfjs.
 */
import { print } from '../dsl/print.js';
import { seedProgram } from '../seeds/index.js';

export const REFERENCE = 'adamw';

export function referenceSources(): { reference: string; twin: string } {
  const p = seedProgram(REFERENCE);
  const twin = { ...p, header: [], hparams: p.hparams.map((h) => (h.name === 'epsilon' ? { ...h, value: h.value / 2 } : h)) };
  return { reference: print(p), twin: print(twin) };
}
