/**
 * The replay of halving rules on recorded full sweeps: which rates a rule
 * stops, which it picks (the refinement included), and what it trains.
 */
import { describe, expect, it } from 'vitest';
import type { RecordedRun, RecordedTask } from '../../bench/halving.js';
import { replayProgram, replayTask, wilsonLow } from '../../bench/halving-rules.js';
import { DEFAULT_LRS } from '../../src/evaluate.js';
import type { HalvingRule } from '../../src/train/halving.js';

/** A run whose smoothed loss falls from 2 at step 1 to `at4` at step 4 of 8 and stays (null: failed after step 1), with validation loss `loss`. */
function run(lr: number, at4: number | null, loss: number | null): RecordedRun {
  const ranking: [number, number | null][] = [[1, 2]];
  for (let t = 2; t < 8; t++) ranking.push([t, at4 === null ? null : 2 - ((2 - at4) * Math.min(t - 1, 3)) / 3]);
  return { lr, loss, ranking };
}

const rule: HalvingRule = { rungs: [0.5], measure: 'loss', margin: 0.1, keep: 1 };

function task(grid: RecordedRun[], extra: RecordedRun[], lr: number | null, steps = 8): RecordedTask {
  return { task: 't', steps, lr, grid: grid.length, runs: [...grid, ...extra], trainMs: 1 };
}

describe('replaying a halving rule', () => {
  // At step 4: rate 3 leads (1.0); 4 and 5 are within 10% of it (1.05, 1.09); the rest are behind; 7 has failed.
  const at4 = [1.9, 1.8, 1.5, 1.0, 1.05, 1.09, 1.6, null];
  const finals = [1.8, 1.7, 1.4, 0.9, 0.8, 0.85, 1.5, null];
  const grid = DEFAULT_LRS.map((lr, i) => run(lr, at4[i]!, finals[i]!));
  // The refinement around 1e-2 (the grid's best): 5.62e-3 and 1.78e-2.
  const extra = [run(0.00562, 1.02, 0.82), run(0.0178, 1.2, 0.7)];

  it('stops the rates clearly behind at the rung, and picks among the survivors', () => {
    const r = replayTask(task(grid, extra, 0.0178), rule);
    expect(r.stoppedAt).toEqual([4, 4, 4, null, null, null, 4, null, null, 4]);
    // The best refinement rate was behind at the rung: the replay's pick is the next best.
    expect(r.lr).toBe(0.01);
    expect(r.known).toBe(true);
    // 4 rates stopped at 4 of 8 steps, and the failed one left at the rung too.
    expect(r.fullReplicaSteps).toBe(80);
    expect(r.replicaSteps).toBe(80 - 6 * 4);
  });

  it('agrees where the full sweep would have picked a survivor', () => {
    const t = task(grid, [run(0.00562, 1.02, 0.82), run(0.0178, 1.03, 0.7)], 0.0178);
    expect(replayProgram({ child: 1, source: '', tasks: [t], fullMs: 0 }, rule).agree).toBe(true);
  });

  it("counts a grid best other than the full sweep's as unknown, since its refinement was never trained", () => {
    const behind = DEFAULT_LRS.map((lr, i) => run(lr, i === 4 ? 1.5 : at4[i]!, finals[i]!));
    const r = replayTask(task(behind, extra, 0.0178), { ...rule, margin: 0 });
    expect(r.known).toBe(false);
    expect(r.lr).toBe(0.00316);
    expect(replayProgram({ child: 1, source: '', tasks: [task(behind, extra, 0.0178)], fullMs: 0 }, { ...rule, margin: 0 }).agree).toBe(false);
  });

  it('a program that ignores the rate trains one run and nothing is stopped', () => {
    const r = replayTask(task([run(1e-4, 1, 0.5)], [], 1e-4), { ...rule, margin: 0 });
    expect(r).toMatchObject({ lr: 1e-4, known: true, stoppedAt: [null], replicaSteps: 8, fullReplicaSteps: 8 });
  });

  it('refuses a rung where nothing was recorded', () => {
    // Recorded at 1/8s of 20 steps (3, 5, 8, ...); 0.3 of them is step 6.
    expect(() => replayTask(task(grid, extra, 0.0178, 20), { ...rule, rungs: [0.3] })).toThrow(/no ranking recorded at step 6/);
  });

  it('bounds agreement from below by the Wilson interval', () => {
    expect(wilsonLow(100, 100)).toBeCloseTo(0.963, 3);
    expect(wilsonLow(99, 100)).toBeCloseTo(0.9455, 3);
    expect(wilsonLow(0, 0)).toBe(0);
  });
});
