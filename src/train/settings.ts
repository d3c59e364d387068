/** Settings of one training run (or sweep) and what a run gives back. */
import type { Batching } from '../tasks/types.js';
import type { HalvingRule } from './halving.js';
import type { InitRule } from './init.js';
import type { MonitorOptions } from './monitor.js';
import type { Schedule } from './schedule.js';

export interface TrainSettings {
  seed: number;
  steps: number;
  batchSize: number;
  batching: Batching;
  schedule: Schedule;
  /** Replaces the random initialisation rule of every weight (biases stay as declared). */
  init?: InitRule;
  /** Program hyperparameters by snake_case name. */
  hparams?: Record<string, number>;
  monitor: Omit<MonitorOptions, 'steps'>;
  /** 'halving': the rates clearly behind are stopped at rungs (halving.ts); default 'full'. */
  sweep?: 'full' | 'halving';
  /** Benchmarks only: a halving rule other than the default. */
  halving?: HalvingRule;
  /**
   * Benchmarks only: record each rate's ranking (what halving decides by) at
   * every 1/n of the steps, so that any rule can be replayed on a full sweep.
   */
  recordRanking?: number;
  /**
   * false: run the program as the compiler's tfjs ops, never as the fused
   * kernel (tests and benchmarks compare the two); default: fused where the
   * backend keeps tensors in memory (src/train/fused-step.ts).
   */
  fuse?: boolean;
  /** Benchmarks only: skip the validation pass (losses and metrics come back null). */
  skipValidation?: boolean;
}

/** One learning rate's run. */
export interface RunResult {
  lr: number;
  /** Validation loss at the end; null when the run failed. */
  loss: number | null;
  metric: number | null;
  /** Training loss, sampled. */
  curve: number[];
  failure?: string;
  plateauAt?: number;
  /** Step at which the halving sweep stopped this rate (it was behind); its loss is then null. */
  stoppedAt?: number;
  /** With `recordRanking`: the smoothed training loss at each recorded step, null once the rate failed. */
  ranking?: { step: number; smoothed: number | null }[];
}
