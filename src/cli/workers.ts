/**
 * How many worker threads can help. Each worker is a tfjs engine on one core,
 * so workers beyond the cores only compete for them; beyond `--batch` they
 * have no child to judge; and each holds its own copy of the task data. A
 * request above the cap is lowered to it, with a one-line note, before any
 * thread starts: a thousand threads would only exhaust the machine.
 */
import * as os from 'node:os';

/** Memory one worker may need (tfjs engine, task data, training), for the cap. */
export const WORKER_MEMORY_BYTES = 256 * 1024 * 1024;

export interface Machine {
  cores: number;
  memoryBytes: number;
}

export function thisMachine(): Machine {
  return {
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    memoryBytes: os.totalmem(),
  };
}

/** The workers to start, and why fewer than requested (absent when the request stands). */
export function usefulWorkers(requested: number, batch: number, machine: Machine = thisMachine()): { workers: number; note?: string } {
  const byMemory = Math.max(1, Math.floor((machine.memoryBytes / 2) / WORKER_MEMORY_BYTES));
  const limits: [number, string][] = [
    [Math.max(1, machine.cores), `this machine has ${machine.cores} core${machine.cores === 1 ? '' : 's'}`],
    [batch, `--batch ${batch} breeds only ${batch} children ahead`],
    [byMemory, `half the memory (${Math.round(machine.memoryBytes / 2 ** 30)} GiB) fits ${byMemory}`],
  ];
  const [cap, why] = limits.reduce((a, b) => (b[0] < a[0] ? b : a));
  if (requested <= cap) return { workers: requested };
  return { workers: cap, note: `--workers ${requested} lowered to ${cap}: ${why}` };
}
