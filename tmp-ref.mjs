import * as tf from '@tensorflow/tfjs';
import { optimizers, splitLoss } from './dist/src/index.js';
import { builtinTask } from './dist/src/tasks/registry.js';
import { readFileSync } from 'node:fs';
await tf.setBackend('cpu'); tf.env().set('PROD', true);
const ref = JSON.parse(readFileSync('test/fixtures/second-order/scipy.json', 'utf8'));
const q = builtinTask('quadratic').setup(0);
const probs = {
  quadratic: { x0: ref.problems.quadratic.x0, f: (x) => q.tfLoss(tf, [x]), fStar: ref.problems.quadratic.fStar },
  rosenbrock: { x0: [-1.2, 1], f: (x) => builtinTask('rosenbrock').setup(0).tfLoss(tf, [x]), fStar: 0,
    split: (x) => splitLoss(() => tf.stack([tf.mul(10, tf.sub(x.slice(1,1), tf.square(x.slice(0,1)))), tf.sub(1, x.slice(0,1))]), (z) => tf.sum(tf.square(z))) },
};
const makers = Object.fromEntries([1, 1e-2, 1e-4].map(d => ['hfH'+d, () => optimizers.hessianFree({ curvature: 'hessian', damping: d })]));
for (const [pn, p] of Object.entries(probs)) for (const [mn, mk] of Object.entries(makers)) {
  if (mn === 'hfGN' && !p.split) continue;
  const x = tf.variable(tf.tensor1d(p.x0)); const o = mk();
  const f = mn === 'hfGN' ? p.split(x) : () => p.f(x);
  let hit = null, it = 0; const trace = [];
  for (it = 1; it <= 200; it++) { o.minimize(f); const l = tf.tidy(() => p.f(x)).dataSync()[0]; trace.push(l); if (hit === null && l - p.fStar <= 1e-6) { hit = it; } if (hit !== null && it >= hit + 3) break; }
  console.log(pn, mn, 'to1e-6', hit, 'ge', o.gradientEquivalents.toFixed(1), 'x', Array.from(x.dataSync()).slice(0,3).map(v=>v.toFixed(5)), trace.slice(0,3).map(v=>v.toExponential(2)));
  x.dispose(); o.dispose();
}
