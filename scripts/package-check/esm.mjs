import * as tf from '@tensorflow/tfjs';
import * as lib from '@optevo/optimizers';
import { run } from './problem.mjs';

tf.env().set('PROD', true);
console.log(JSON.stringify(await run(tf, lib)));
