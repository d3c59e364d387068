// Bundle size of optevo's AdamW on top of tfjs-core.
import * as tf from '@tensorflow/tfjs-core';
import { optimizers } from '@optevo/optimizers';
export { tf };
export const adamw = () => optimizers.adamw();
