/**
 * The second-order optimizers as factories, beside the seeds in
 * `optimizers`: `optimizers.newton({...})`, `optimizers.hessianFree({...})`.
 * They are library optimizers, not programs of the language: the search
 * never mutates them.
 */
import { HessianFreeOptimizer, type HessianFreeHparams } from './hessian-free.js';
import { NewtonOptimizer, type NewtonHparams } from './newton.js';

export interface SecondOrderOptimizers {
  readonly newton: (hparams?: Partial<NewtonHparams>) => NewtonOptimizer;
  readonly hessianFree: (hparams?: Partial<HessianFreeHparams>) => HessianFreeOptimizer;
}

export const SECOND_ORDER: SecondOrderOptimizers = Object.freeze({
  newton: (hparams?: Partial<NewtonHparams>) => new NewtonOptimizer(hparams),
  hessianFree: (hparams?: Partial<HessianFreeHparams>) => new HessianFreeOptimizer(hparams),
});

export type SecondOrderName = keyof SecondOrderOptimizers;
export const SECOND_ORDER_NAMES: readonly SecondOrderName[] = ['newton', 'hessianFree'];

export function isSecondOrderName(s: string): s is SecondOrderName {
  return (SECOND_ORDER_NAMES as readonly string[]).includes(s);
}
