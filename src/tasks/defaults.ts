/** Defaults shared by the built-in tasks. */
import type { Schedule } from '../train/schedule.js';
import type { InitRule } from '../train/init.js';

export const CONSTANT: Schedule = { kind: 'constant' };
export const GLOROT: InitRule = { kind: 'glorot-uniform' };
/** The divergence threshold: a loss 100 times its start (and 1 above it). */
export const DIVERGENCE = 100;
