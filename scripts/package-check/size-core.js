// Bundle-size baseline: tfjs-core alone.
import * as tf from '@tensorflow/tfjs-core';
export { tf };
