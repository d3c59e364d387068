/**
 * Does successive halving pick the same best rate as the full sweep? (issue
 * 14). Takes the trained programs of a real search (its run database), and
 * evaluates each with both sweeps on the given tasks (no reference), one
 * program after another, side by side; writes a line per program as it goes
 * (so a cut-short run still counts) and a summary: agreements per task and
 * per program (all tasks agree), and the CPU time of each sweep.
 *
 * Run: npm run build && node dist/bench/halving.js --run DIR [--tasks a,b] [--limit 200] [--out FILE]
 */
import * as fs from 'node:fs';
import { parse } from '../dsl/parse.js';
import { SqliteRunStore } from '../search/store.js';
import { evaluate } from '../src/evaluate.js';
import { arg, cpuMs } from './process.js';


interface Line {
  child: number;
  tasks: { task: string; full: number | null; halving: number | null; agree: boolean; fullLoss: number | null; halvingLoss: number | null }[];
  fullMs: number;
  halvingMs: number;
}

async function main() {
  const run = arg('--run');
  if (!run) throw new Error('--run DIR is required (a search run folder)');
  const tasks = (arg('--tasks', 'mnist8-mlp') ?? '').split(',').filter((t) => t);
  const limit = Number(arg('--limit', '200'));
  const out = arg('--out', `.bench/halving-${tasks.join('+')}.jsonl`)!;
  const store = SqliteRunStore.open(run, { readonly: true });
  const seen = new Set<string>();
  const programs: { id: number; source: string }[] = [];
  for (const c of store.children({ status: 'ok' })) {
    const key = 'hash' in c ? c.hash : c.source;
    if (seen.has(key)) continue;
    seen.add(key);
    programs.push({ id: c.id, source: c.source });
  }
  store.close();
  const done = new Set<number>();
  if (fs.existsSync(out)) for (const l of fs.readFileSync(out, 'utf8').split('\n')) if (l.trim()) done.add((JSON.parse(l) as Line).child);
  const todo = programs.slice(0, limit).filter((p) => !done.has(p.id));
  process.stderr.write(`${programs.length} trained programs in the run; ${done.size} done, ${todo.length} to go, tasks ${tasks.join(', ')}\n`);
  const opts = { tasks, backend: 'wasm' as const, reference: false };
  for (const p of todo) {
    const program = parse(p.source);
    let c = cpuMs();
    const full = await evaluate(program, { ...opts, sweep: 'full' });
    const fullMs = cpuMs() - c;
    c = cpuMs();
    const halving = await evaluate(program, { ...opts, sweep: 'halving' });
    const halvingMs = cpuMs() - c;
    const line: Line = {
      child: p.id,
      tasks: full.tasks.map((t, i) => {
        const h = halving.tasks[i]!;
        return { task: t.task, full: t.lr, halving: h.lr, agree: t.lr === h.lr, fullLoss: t.loss, halvingLoss: h.loss };
      }),
      fullMs,
      halvingMs,
    };
    fs.appendFileSync(out, JSON.stringify(line) + '\n');
  }
  summarise(out);
}

export function summarise(file: string): void {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Line);
  const perTask = new Map<string, { n: number; agree: number }>();
  let programsAgree = 0;
  let fullMs = 0;
  let halvingMs = 0;
  for (const l of lines) {
    for (const t of l.tasks) {
      const e = perTask.get(t.task) ?? { n: 0, agree: 0 };
      e.n++;
      if (t.agree) e.agree++;
      perTask.set(t.task, e);
    }
    if (l.tasks.every((t) => t.agree)) programsAgree++;
    fullMs += l.fullMs;
    halvingMs += l.halvingMs;
  }
  const summary = {
    programs: lines.length,
    programsAgreeOnEveryTask: programsAgree,
    share: lines.length ? programsAgree / lines.length : null,
    perTask: Object.fromEntries([...perTask].map(([k, v]) => [k, { ...v, share: v.agree / v.n }])),
    cpuSecondsFull: fullMs / 1000,
    cpuSecondsHalving: halvingMs / 1000,
    halvingCostShare: fullMs ? halvingMs / fullMs : null,
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e) => {
    process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
    process.exitCode = 1;
  });
}
