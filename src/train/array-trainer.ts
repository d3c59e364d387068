/**
 * Trains an array task (closed-form gradients over float64 arrays) with the
 * language's float64 reference interpreter: no tfjs, no per-op overhead. The
 * rates of a sweep run one after another; each is cheap.
 */
import type { Program } from '../../dsl/ast.js';
import { interpreter } from '../../dsl/interpret.js';
import { rng } from '../data/rng.js';
import type { ArrayTask } from '../tasks/types.js';
import { batchPlan } from './batches.js';
import { Monitor, type MonitorOptions } from './monitor.js';
import type { RunResult, TrainSettings } from './settings.js';
import { scheduleFactor } from './schedule.js';
import { errorMessage } from '../../dsl/errors.js';

export function trainArrayTask(task: ArrayTask, program: Program, lrs: readonly number[], s: TrainSettings): { runs: RunResult[]; setupMs: number; trainMs: number } {
  const t0 = performance.now();
  const problem = task.setup(s.seed);
  const t1 = performance.now();
  const runs: RunResult[] = [];
  for (const lr of lrs) {
    const interp = interpreter(program, s.hparams);
    const ws = problem.init();
    const gs = ws.map((w) => new Float64Array(w.length));
    let state = interp.init(ws);
    const plan = batchPlan(problem.nTrain === null ? 'full' : s.batching, problem.nTrain ?? 1, s.batchSize, rng(task.name, s.seed, 'batches'));
    const mo: MonitorOptions = { steps: s.steps, ...s.monitor };
    const mon = new Monitor(mo);
    let t = 1;
    try {
      for (; t <= s.steps; t++) {
        const loss = problem.lossGrad(ws, plan.next(), gs);
        if (!mon.record(t, loss)) break;
        const out = interp.step(ws, gs, state, lr * scheduleFactor(s.schedule, t, s.steps));
        state = out.state;
        for (let i = 0; i < ws.length; i++) {
          const w = ws[i]!;
          const u = out.updates[i]!;
          for (let j = 0; j < w.length; j++) w[j]! -= u[j]!;
        }
      }
    } catch (e) {
      mon.fail(t, `error at step ${t}: ${errorMessage(e)}`);
    }
    let loss: number | null = null;
    let metric: number | null = null;
    if (!mon.failed) {
      const v = problem.validate(ws);
      if (!Number.isFinite(v.loss)) mon.fail(s.steps, `non-finite validation loss ${v.loss}`);
      else {
        loss = v.loss;
        metric = v.metric;
      }
    }
    runs.push({ lr, loss, metric, curve: mon.curve, ...(mon.failure ? { failure: mon.failure } : {}), ...(mon.plateauAt !== undefined ? { plateauAt: mon.plateauAt } : {}) });
  }
  return { runs, setupMs: t1 - t0, trainMs: performance.now() - t1 };
}
