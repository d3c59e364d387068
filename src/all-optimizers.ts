/**
 * optevo's `optimizers`: every rule of the lean library (@optevo/optimizers,
 * built from src/optimizers.ts) and the second-order `newton` and
 * `hessianFree`. Those need the whole of tfjs (second derivatives of its
 * kernels), so they live in optevo, not in the library, whose only
 * dependency is tfjs-core.
 */
import { SECOND_ORDER, type SecondOrderOptimizers } from './second-order/index.js';
import { optimizers as libraryOptimizers, type SeedOptimizers } from './optimizers.js';

/** `optimizers.adam({ learningRate: 1e-3 })`: every rule by name, and `optimizers.newton(...)`, `optimizers.hessianFree(...)`. */
export const optimizers: SeedOptimizers & SecondOrderOptimizers = Object.freeze({ ...libraryOptimizers, ...SECOND_ORDER });
