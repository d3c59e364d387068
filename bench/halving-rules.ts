/**
 * Replays halving rules on full sweeps recorded by bench/halving.ts: for each
 * rule, which rates it would have stopped at its rungs, which rate it would
 * then have picked (the refinement around the grid's best included), and how
 * many replica-steps it would have trained. Agreement is per program: the
 * same best rate as the full sweep on every task.
 *
 * Choosing a rule on the same programs it is judged on flatters it (the best
 * of thousands of rules on a hundred programs), so the programs are split in
 * two (alternately, by child id): the rule is chosen on the selection half,
 * the largest saving among the rules whose agreement there is at least
 * --target even at the low end of its 95% (Wilson) interval, and its
 * agreement is reported on the held-out half too. Choosing at --target of
 * the selection half itself was measured to overfit: 96% there, 91% held out.
 *
 * Run: node dist/bench/halving-rules.js --in FILE[,FILE] [--target 0.95] [--rule JSON] [--top 10]
 * (several files: records of other tasks for the same programs, joined by
 * child; only the programs in every file count)
 */
import { DEFAULT_LRS, refinedRates } from '../src/evaluate.js';
import { type HalvingRule, rungEnds, survivors } from '../src/train/halving.js';
import { RECORD_PARTS, readRecords, type Recorded, type RecordedRun, type RecordedTask } from './halving.js';
import { arg } from './process.js';

export interface ReplayedTask {
  /** The rate halving would have picked. */
  lr: number | null;
  /** False when halving's grid best differs from the full sweep's, so that its refinement was never recorded (counted as disagreeing). */
  known: boolean;
  /** Per run of the record: the rung step that stopped it, or null. */
  stoppedAt: (number | null)[];
  replicaSteps: number;
  fullReplicaSteps: number;
}

/** One pass of the sweep under `rule`: the rates stopped, and the replica-steps trained. */
function replayPass(runs: RecordedRun[], steps: number, rule: HalvingRule): { stoppedAt: (number | null)[]; replicaSteps: number } {
  const ends = rungEnds(steps, 'halving', rule).slice(0, -1);
  const stoppedAt: (number | null)[] = runs.map(() => null);
  for (const end of ends) {
    if (!recordedSteps(steps).includes(end)) throw new Error(`no ranking recorded at step ${end} of ${steps}: rungs must be at 1/${RECORD_PARTS}s of the run`);
    // A rate without a record there had failed (its group stopped once all had).
    const smoothed = runs.map((r) => r.ranking.find(([t]) => t === end)?.[1] ?? null);
    const running = runs.map((_, i) => i).filter((i) => stoppedAt[i] === null && smoothed[i] !== null);
    const lead = running.reduce((b, i) => (smoothed[i]! < smoothed[b]! ? i : b), running[0] ?? 0);
    const first = runs[lead]?.ranking.find(([t]) => t === 1)?.[1] ?? NaN;
    const keep = new Set(survivors(running, smoothed.map((x) => x ?? NaN), rule, first));
    // Failed rates leave the stack at the rung too (the trainer stops whatever does not go on).
    runs.forEach((_, i) => {
      if (stoppedAt[i] === null && !keep.has(i)) stoppedAt[i] = smoothed[i] === null ? -end : end;
    });
  }
  const replicaSteps = stoppedAt.reduce<number>((s, at) => s + (at === null ? steps : Math.abs(at)), 0);
  // The trainer marks only the rates it stopped while running; the failed ones keep their failure.
  return { stoppedAt: stoppedAt.map((at) => (at !== null && at > 0 ? at : null)), replicaSteps };
}

function recordedSteps(steps: number): number[] {
  return Array.from({ length: RECORD_PARTS - 1 }, (_, k) => Math.round(((k + 1) * steps) / RECORD_PARTS));
}

function best(runs: RecordedRun[], alive: (i: number) => boolean): RecordedRun | null {
  let b: RecordedRun | null = null;
  runs.forEach((r, i) => {
    if (alive(i) && r.loss !== null && (b === null || r.loss < b.loss!)) b = r;
  });
  return b;
}

export function replayTask(t: RecordedTask, rule: HalvingRule): ReplayedTask {
  const grid = t.runs.slice(0, t.grid);
  const extra = t.runs.slice(t.grid);
  const g = replayPass(grid, t.steps, rule);
  const fullGridBest = best(grid, () => true);
  const gridBest = best(grid, (i) => g.stoppedAt[i] === null);
  const fullReplicaSteps = t.runs.length * t.steps;
  const lrs = grid.length > 1 ? DEFAULT_LRS : grid.map((r) => r.lr);
  const refined = gridBest ? refinedRates(lrs, gridBest.lr).filter((lr) => !lrs.includes(lr)) : [];
  if (gridBest?.lr !== fullGridBest?.lr) {
    // Its refinement trained other rates than the record's; count their cost as the full sweep's.
    return { lr: gridBest?.lr ?? null, known: false, stoppedAt: [...g.stoppedAt, ...extra.map(() => null)], replicaSteps: g.replicaSteps + refined.length * t.steps, fullReplicaSteps };
  }
  const e = replayPass(extra, t.steps, rule);
  const all = [...grid, ...extra];
  const stoppedAt = [...g.stoppedAt, ...e.stoppedAt];
  const b = best(all, (i) => stoppedAt[i] === null);
  return { lr: b?.lr ?? null, known: true, stoppedAt, replicaSteps: g.replicaSteps + e.replicaSteps, fullReplicaSteps };
}

export function replayProgram(rec: Recorded, rule: HalvingRule): { agree: boolean; tasks: ReplayedTask[] } {
  const tasks = rec.tasks.map((t) => replayTask(t, rule));
  return { agree: tasks.every((r, i) => r.known && r.lr === rec.tasks[i]!.lr), tasks };
}

export interface RuleFigures {
  rule: HalvingRule;
  programs: number;
  agree: number;
  share: number;
  /** Replica-steps saved, weighted per task by its full sweep's training time per replica-step. */
  saved: number;
  perTask: Record<string, { agree: number; saved: number }>;
}

export function figures(recs: Recorded[], rule: HalvingRule): RuleFigures {
  let agree = 0;
  const per = new Map<string, { n: number; agree: number; steps: number; full: number; ms: number }>();
  for (const rec of recs) {
    const r = replayProgram(rec, rule);
    if (r.agree) agree++;
    r.tasks.forEach((x, i) => {
      const t = rec.tasks[i]!;
      const e = per.get(t.task) ?? { n: 0, agree: 0, steps: 0, full: 0, ms: 0 };
      e.n++;
      if (x.known && x.lr === t.lr) e.agree++;
      e.steps += x.replicaSteps;
      e.full += x.fullReplicaSteps;
      e.ms += t.trainMs;
      per.set(t.task, e);
    });
  }
  // Time per replica-step differs between tasks: weigh each task's saving by its share of the training time.
  const totalMs = [...per.values()].reduce((s, e) => s + e.ms, 0);
  const saved = [...per.values()].reduce((s, e) => s + (e.ms / totalMs) * (1 - e.steps / e.full), 0);
  return {
    rule,
    programs: recs.length,
    agree,
    share: recs.length ? agree / recs.length : 0,
    saved,
    perTask: Object.fromEntries([...per].map(([k, e]) => [k, { agree: e.agree / e.n, saved: 1 - e.steps / e.full }])),
  };
}

/** The rules searched: one to three rungs at eighths of the run, a margin of either measure, and the best few always kept. */
export function candidateRules(): HalvingRule[] {
  const eighths = [1, 2, 3, 4, 5, 6, 7].map((k) => k / 8);
  const rungSets: number[][] = [];
  for (let a = 0; a < 7; a++) {
    rungSets.push([eighths[a]!]);
    for (let b = a + 1; b < 7; b++) {
      rungSets.push([eighths[a]!, eighths[b]!]);
      for (let c = b + 1; c < 7; c++) rungSets.push([eighths[a]!, eighths[b]!, eighths[c]!]);
    }
  }
  const out: HalvingRule[] = [];
  const margins = { loss: [0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2], progress: [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1] };
  for (const rungs of rungSets) {
    for (const measure of ['loss', 'progress'] as const) for (const margin of margins[measure]) for (const keep of [1, 2, 3, 4]) out.push({ rungs, measure, margin, keep });
  }
  return out;
}

/** The low end of the 95% Wilson score interval of k successes in n. */
export function wilsonLow(k: number, n: number, z = 1.96): number {
  if (n === 0) return 0;
  const p = k / n;
  const d = 1 + (z * z) / n;
  return (p + (z * z) / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
}

/** Records of the same programs on other tasks joined into one per program. */
function merged(sets: Recorded[][]): Recorded[] {
  const [head, ...rest] = sets;
  const out: Recorded[] = [];
  for (const r of head ?? []) {
    const others = rest.map((set) => set.find((x) => x.child === r.child));
    if (others.some((o) => !o)) continue;
    out.push({ ...r, tasks: [...r.tasks, ...others.flatMap((o) => o!.tasks)], fullMs: r.fullMs + others.reduce((ms, o) => ms + o!.fullMs, 0) });
  }
  return out;
}

function main() {
  const files = (arg('--in') ?? '').split(',').filter((f) => f);
  if (files.length === 0) throw new Error('--in FILE[,FILE] is required (records of bench/halving.js)');
  const target = Number(arg('--target', '0.95'));
  const recs = merged(files.map(readRecords)).sort((a, b) => a.child - b.child);
  const selection = recs.filter((_, i) => i % 2 === 0);
  const heldOut = recs.filter((_, i) => i % 2 === 1);
  const show = (f: RuleFigures) => `${JSON.stringify(f.rule)}: agree ${f.agree}/${f.programs} (${(100 * f.share).toFixed(1)}%), saves ${(100 * f.saved).toFixed(1)}% ${JSON.stringify(Object.fromEntries(Object.entries(f.perTask).map(([k, v]) => [k, `${(100 * v.agree).toFixed(0)}% agree, ${(100 * v.saved).toFixed(0)}% saved`])))}`;
  const given = arg('--rule');
  if (given) {
    const rule = JSON.parse(given) as HalvingRule;
    for (const [name, set] of [['selection', selection], ['held-out', heldOut], ['all', recs]] as const) process.stdout.write(`${name}: ${show(figures(set, rule))}\n`);
    return;
  }
  const scored = candidateRules().map((r) => figures(selection, r));
  const ok = scored.filter((f) => wilsonLow(f.agree, f.programs) >= target).sort((a, b) => b.saved - a.saved);
  process.stdout.write(`${recs.length} programs (${selection.length} to choose on, ${heldOut.length} held out); ${scored.length} rules, ${ok.length} agree on >= ${100 * target}% of the selection half (low end of the 95% interval)\n`);
  process.stdout.write('best savings on the selection half, with the held-out half and all:\n');
  for (const f of ok.slice(0, Number(arg('--top', '10')))) {
    process.stdout.write(`  selection ${show(f)}\n    held-out  ${show(figures(heldOut, f.rule))}\n    all       ${show(figures(recs, f.rule))}\n`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
