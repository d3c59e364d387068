// The full package: the same run through `optevo`'s re-export of the library.
import * as tf from '@tensorflow/tfjs';
import * as optevo from 'optevo';
import { run } from './problem.mjs';

tf.env().set('PROD', true);
if (typeof optevo.evaluate !== 'function') throw new Error('optevo does not export evaluate');
console.log(JSON.stringify(await run(tf, optevo)));
