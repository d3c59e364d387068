/**
 * A random rotation (orthonormal rows, from Gram-Schmidt on Gaussian vectors):
 * the seeded tasks use it so that their valleys are not aligned with the axes
 * and their optima lie in a direction the seed draws.
 */
import type { Rng } from '../data/rng.js';

export function randomRotation(d: number, r: Rng): Float64Array[] {
  const q: Float64Array[] = [];
  while (q.length < d) {
    const v = Float64Array.from({ length: d }, () => r.normal());
    for (const u of q) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += v[k]! * u[k]!;
      for (let k = 0; k < d; k++) v[k]! -= dot * u[k]!;
    }
    let nrm = 0;
    for (let k = 0; k < d; k++) nrm += v[k]! ** 2;
    nrm = Math.sqrt(nrm);
    // A draw (almost) inside the span of the others is drawn again.
    if (nrm < 1e-8) continue;
    for (let k = 0; k < d; k++) v[k]! /= nrm;
    q.push(v);
  }
  return q;
}
