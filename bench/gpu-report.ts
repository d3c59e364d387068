/**
 * The device check's report (issue 17): reads what bench/gpu.ts wrote for
 * each backend in a folder and prints the figures and ratios, one per line.
 *
 *   node gpu-report.js DIR
 *
 * Loss agreement: for each standard task, the validation loss on webgpu and
 * on wasm at every rate where both finished. The two backends sum in
 * different orders in float32, and a few hundred training steps carry those
 * differences forward, so agreement is judged at each task's best rate
 * (where training is stable), within AGREEMENT relative difference; every
 * rate's difference is printed too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskLosses } from './gpu.js';

export const AGREEMENT = 0.02;

interface Figures {
  backend: string;
  detail: string;
  standardMlpStepsPerSecond: number;
  largeMlpStepsPerSecond: number;
  largeMlpParams: number;
  matmul: { n: number; tflops: number } | null;
  standardSuiteEvalSeconds: number;
  perTask: { task: string; ms: number; batched: boolean; stepsPerSecond: number }[];
  lrs: number[];
  tasks: TaskLosses[];
  stacking?: { task: string; replicaStepsPerSecond: Record<string, number> }[];
}

interface Throughput {
  backend: string;
  procs?: number;
  workers?: number;
  trained: number;
  failed: number;
  seconds: number;
  perHour: number;
}

function readJson<T>(file: string): T | string {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (!text) throw new Error('empty');
    return JSON.parse(text.split('\n').pop()!) as T;
  } catch {
    const err = file.replace(/\.json$/, '.err');
    const why = fs.existsSync(err) ? fs.readFileSync(err, 'utf8').trim().split('\n').pop() : '';
    return `missing ${path.basename(file)}${why ? `: ${why}` : ''}`;
  }
}

const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/** Relative difference, against the larger magnitude (with a floor for losses near zero). */
export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-6);
}

export function agreement(g: TaskLosses, w: TaskLosses, lrs: number[]): { line: string; ok: boolean } {
  const diffs = lrs.map((lr, k) => {
    const a = g.losses[k];
    const b = w.losses[k];
    return a === null || a === undefined || b === null || b === undefined ? null : { lr, d: relDiff(a, b) };
  });
  const bestK = w.losses.reduce<number>((bk, l, k) => (l !== null && (bk < 0 || l < w.losses[bk]!) ? k : bk), -1);
  const atBest = bestK >= 0 ? diffs[bestK] : null;
  const both = diffs.filter((d): d is { lr: number; d: number } => d !== null);
  const ok = atBest !== null && atBest !== undefined && atBest.d <= AGREEMENT;
  const all = both.map((d) => `${d.lr}: ${(100 * d.d).toFixed(2)}%`).join(', ');
  const onlyOne = lrs.filter((_, k) => (g.losses[k] === null) !== (w.losses[k] === null)).length;
  return {
    ok,
    line: `${g.task}: best-rate loss webgpu ${g.best?.toPrecision(5)} wasm ${w.best?.toPrecision(5)}, difference at wasm's best rate ${
      atBest ? `${(100 * atBest.d).toFixed(3)}%` : 'n/a'
    } [${ok ? 'ok' : 'FAIL'}, tolerance ${100 * AGREEMENT}%]; every rate: ${all}${onlyOne ? `; ${onlyOne} rate(s) failed on one backend only` : ''}`,
  };
}

export function report(dir: string): string[] {
  const lines: string[] = [];
  const w = readJson<Figures>(path.join(dir, 'wasm.json'));
  const g = readJson<Figures>(path.join(dir, 'webgpu.json'));
  if (typeof w === 'string') lines.push(`wasm figures: ${w}`);
  if (typeof g === 'string') lines.push(`webgpu figures: ${g}`);
  if (typeof w !== 'string') lines.push(`wasm: ${w.detail}`);
  if (typeof g !== 'string') lines.push(`webgpu: ${g.detail}`);
  if (typeof w !== 'string' && typeof g !== 'string') {
    lines.push(
      `standard-suite candidate (AdamW, 8 rates, 4 tasks): webgpu ${g.standardSuiteEvalSeconds.toFixed(1)} s, wasm ${w.standardSuiteEvalSeconds.toFixed(1)} s: ${x(w.standardSuiteEvalSeconds, g.standardSuiteEvalSeconds)} faster on webgpu [goal 10x]`,
    );
    for (const t of g.perTask) {
      const u = w.perTask.find((p) => p.task === t.task);
      if (u) lines.push(`  ${t.task}: webgpu ${(t.ms / 1000).toFixed(1)} s (${t.batched ? 'stacked' : 'separate'}), wasm ${(u.ms / 1000).toFixed(1)} s (${u.batched ? 'stacked' : 'separate'}): ${x(u.ms, t.ms)}`);
    }
    lines.push(`standard MLP (784-128-10, batch 128) steps/s: webgpu ${g.standardMlpStepsPerSecond.toFixed(1)}, wasm ${w.standardMlpStepsPerSecond.toFixed(1)}: ${x(g.standardMlpStepsPerSecond, w.standardMlpStepsPerSecond)}`);
    lines.push(
      `${(g.largeMlpParams / 1e6).toFixed(1)}M-parameter MLP, batch 1024, steps/s: webgpu ${g.largeMlpStepsPerSecond.toFixed(2)}, wasm ${w.largeMlpStepsPerSecond.toFixed(3)}: ${x(g.largeMlpStepsPerSecond, w.largeMlpStepsPerSecond)}`,
    );
    if (g.matmul) lines.push(`matmul ${g.matmul.n}^3 float32 on webgpu: ${g.matmul.tflops.toFixed(2)} TFLOP/s, ${((100 * g.matmul.tflops) / 67).toFixed(1)}% of the H200's float32 peak (67 TFLOP/s)`);
    for (const st of g.stacking ?? []) {
      const u = w.stacking?.find((p) => p.task === st.task);
      const fmt = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
      lines.push(`  ${st.task} replica-steps/s: webgpu ${fmt(st.replicaStepsPerSecond)}${u ? `; wasm ${fmt(u.replicaStepsPerSecond)}` : ''}`);
    }
    let agreeing = 0;
    for (const t of g.tasks) {
      const u = w.tasks.find((p) => p.task === t.task);
      if (!u) continue;
      const a = agreement(t, u, g.lrs);
      if (a.ok) agreeing++;
      lines.push(`loss agreement ${a.line}`);
    }
    lines.push(`loss agreement: ${agreeing}/${g.tasks.length} tasks within ${100 * AGREEMENT}% at the best rate`);
  }
  const group = (prefix: string): Throughput[] =>
    fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
      .map((f) => readJson<Throughput>(path.join(dir, f)))
      .filter((r): r is Throughput => typeof r !== 'string');
  const sum = (rs: Throughput[]) => rs.reduce((s, r) => s + r.perHour, 0);
  const one = { g: group('s-webgpu-1.'), w: group('s-wasm-1.') };
  if (one.g.length && one.w.length)
    lines.push(`standard-suite candidates per hour, one process: webgpu ${sum(one.g).toFixed(0)}, wasm ${sum(one.w).toFixed(0)}: ${x(sum(one.g), sum(one.w))}`);
  else lines.push(`one-process search throughput: missing (${[...fs.readdirSync(dir).filter((f) => /^s-.*-1\.err$/.test(f))].map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n').pop()).join(' | ')})`);
  const pool = { g: group('s-webgpu-pool.'), w: group('s-wasm-pool.') };
  const poolLine = (r: Throughput[], name: string) =>
    r.length ? `${name} ${r[0]!.workers} threads ${r[0]!.perHour.toFixed(0)}` : `${name}: ${readJson(path.join(dir, `s-${name}-pool.json`))}`;
  lines.push(`standard-suite candidates per hour through the worker pool, side by side: ${poolLine(pool.g, 'webgpu')}; ${poolLine(pool.w, 'wasm')}`);
  return lines;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.stdout.write(report(process.argv[2] ?? '.').join('\n') + '\n');
}
