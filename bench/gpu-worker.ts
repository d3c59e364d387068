/**
 * The pool's worker for the device check's bundle: src/worker.ts with the
 * webgpu backend named by a literal import, so that the bundler includes it.
 */
import { setWebgpuBackendLoader } from '../src/webgpu.js';

setWebgpuBackendLoader(() => import('@tensorflow/tfjs-backend-webgpu'));

export { default } from '../src/worker.js';
