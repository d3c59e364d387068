import * as tf from '@tensorflow/tfjs';
import * as lib from '@optevo/optimizers';
import { run } from '../problem.mjs';

run(tf, lib).then(
  (r) => (window.__result = r),
  (e) => (window.__error = String(e && e.stack ? e.stack : e)),
);
