/**
 * Real parts for search tests: a real run store in a temp folder, and an
 * in-process executor that really runs each program (the float64
 * interpreter) on a small ill-conditioned quadratic, with optional random
 * delays so that evaluations finish out of order.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from '../../dsl/parse.js';
import { interpreter } from '../../dsl/interpret.js';
import { SearchConfigSchema, type SearchConfig } from '../../search/config.js';
import { SqliteRunStore } from '../../search/store.js';
import type { EvalJob, EvalOutcome, Executor, SuiteResult } from '../../search/types.js';
import { seedSource } from '../../seeds/index.js';
import { referenceSources } from '../../src/reference.js';

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-search-'));
}

export function testConfig(over: Partial<SearchConfig> = {}): SearchConfig {
  return SearchConfigSchema.parse({
    seed: 7,
    budget: 30,
    population: 10,
    tournament: 3,
    seeds: ['adamw'],
    restartAfter: 0,
    mutationWeights: { insert: 1, delete: 1, modify: 1 },
    maxStatements: 20,
    hurdle: 0.5,
    suite: 'standard',
    metavalEvery: 0,
    metavalTop: 2,
    batch: 4,
    lrs: [],
    evalSeed: 1,
    ...over,
  });
}

export function createRun(dir: string, config: SearchConfig, name = 'run'): SqliteRunStore {
  return SqliteRunStore.create(path.join(dir, name), {
    config,
    seeds: config.seeds.map((s) => ({ name: s, source: seedSource(s) })),
  });
}

/** Loss of a quadratic 0.5 sum(a_i w_i^2) after `steps` steps of the program; fitness = -log10(final / initial). */
export function quadraticFitness(source: string, steps: number): { fitness: number | null; failure?: string } {
  const it = interpreter(parse(source));
  const a = [1, 10, 100, 0.1, 3];
  let ws = [Float64Array.from([1, -1, 0.5, 2, -0.3])];
  const loss = (w: Float64Array) => 0.5 * a.reduce((s, ai, i) => s + ai * w[i]! * w[i]!, 0);
  const l0 = loss(ws[0]!);
  let state = it.init(ws);
  for (let t = 0; t < steps; t++) {
    const gs = [ws[0]!.map((w, i) => a[i]! * w)];
    const r = it.step(ws, gs, state, 0.01);
    state = r.state;
    ws = [ws[0]!.map((w, i) => w - (r.updates[0]![i] as number))];
  }
  const l = loss(ws[0]!);
  if (!Number.isFinite(l)) return { fitness: null, failure: 'non-finite loss' };
  return { fitness: Math.round(-Math.log10(Math.max(l, 1e-300) / l0) * 1e9) / 1e9 };
}

export interface FakeExecutor extends Executor {
  jobs: EvalJob[];
  maxBusy: number;
}

export interface FakeOptions {
  size?: number;
  /** Random delay in ms, up to this (0: none, but still asynchronous). */
  jitter?: number;
  /** Outcome override for some jobs (crashes, hangs, exceptions). */
  intercept?: (job: EvalJob, attempt: number) => EvalOutcome | undefined;
}

export function fakeExecutor(opts: FakeOptions = {}): FakeExecutor {
  const size = opts.size ?? 2;
  let busy = 0;
  const queue: (() => void)[] = [];
  const attempts = new Map<string, number>();
  const ex: FakeExecutor = {
    size,
    jobs: [],
    maxBusy: 0,
    busy: () => busy,
    async evaluate(job) {
      ex.jobs.push(job);
      if (busy >= size) await new Promise<void>((r) => queue.push(r));
      busy++;
      ex.maxBusy = Math.max(ex.maxBusy, busy);
      try {
        await new Promise((r) => setTimeout(r, opts.jitter ? Math.random() * opts.jitter : 0));
        const key = `${job.childId}/${job.suite}`;
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        const o = opts.intercept?.(job, n);
        if (o) return o;
        const steps = job.steps ?? (job.suite === 'quick' ? 10 : job.suite === 'standard' ? 30 : 60);
        const { fitness, failure } = quadraticFitness(job.source, steps);
        const result: SuiteResult = {
          suite: job.suite,
          fitness,
          ms: 1,
          tasks: [{ task: 'quadratic', lr: 1, loss: null, metric: null, score: fitness, curve: [], ms: 1, ...(failure ? { failure } : {}) }],
          ...(failure ? { failure } : {}),
        };
        return { ok: true, result };
      } finally {
        busy--;
        queue.shift()?.();
      }
    },
    async close() {},
  };
  return ex;
}

/** The fields that must agree between two runs of the same seed. */
export function essence(c: { id: number; parent: number | null; mutation: string; source: string; status: string; fitness: number | null; cachedFrom: number | null }) {
  return { id: c.id, parent: c.parent, mutation: c.mutation, source: c.source, status: c.status, fitness: c.fitness, cachedFrom: c.cachedFrom };
}

/** What must agree between two SQLite runs of the same seed: children, population, counters and meta-validation (time left out). */
export function runSnapshot(runPath: string) {
  const s = SqliteRunStore.open(runPath, { readonly: true });
  try {
    return {
      children: s.children().map(essence),
      population: s.population(),
      // Time (elapsed, the workers' capacity) differs between any two runs; the rest is the run.
      counters: { ...s.counters(), elapsedMs: 0, workerTime: null },
      metaval: s.metavalResults().map((m) => [m.id, m.requestedAt, m.status, m.fitness]),
    };
  } finally {
    s.close();
  }
}

/** The run's reference program and its twin, as the CLI gives them. */
export const calibration = referenceSources();
/** The twin's scores against AdamW, by evaluation seed: what the noise is measured from. */
export const TWIN: Record<number, number> = { 1: 0.01, 2: -0.02, 3: 0.02 };
/** An intercept that scores the twin as TWIN says (the fake executor trains everything else). */
export function twinIntercept(job: EvalJob): EvalOutcome | undefined {
  return job.source === calibration.twin ? { ok: true, result: { suite: job.suite, fitness: TWIN[job.seed]!, ms: 1, tasks: [] } } : undefined;
}
