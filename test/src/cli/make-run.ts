/**
 * A small finished run made by hand through the run store's write API: two
 * seeds and four children, with per-task scores, curves, a meta-validation
 * result and one of each notable status.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqliteRunStore } from '../../../search/store.js';
import { ZERO_COUNTERS, type Counters } from '../../../search/types.js';
import type { ChildRecord, ChildStatus, MutationKind, SuiteResult } from '../../../search/types.js';

export const SGD = 'learning_rate = 0.01\n\ndef train(w, g, lr):\n  update = g * lr\n  return update\n';
export const MOMENTUM = 'learning_rate = 0.01\nmomentum = 0.9\n\ndef train(w, g, buf, lr):\n  buf = buf * momentum + g\n  update = buf * lr\n  return update, buf\n';
export const FOUND = 'learning_rate = 0.01\nmomentum = 0.9\n\ndef train(w, g, buf, lr):\n  buf = buf * momentum + g\n  s = sign(buf)\n  d = buf * 2\n  update = s * lr\n  return update, buf\n';
export const FOUND_SIMPLIFIED = 'learning_rate = 0.01\nmomentum = 0.9\n\ndef train(w, g, buf, lr):\n  buf = buf * momentum + g\n  update = sign(buf) * lr\n  return update, buf\n';

const TASKS = ['quadratic', 'rosenbrock'];

function suite(name: 'quick' | 'standard', fitness: number, slope: number): SuiteResult {
  return {
    suite: name,
    fitness,
    ms: 200,
    tasks: TASKS.map((task, i) => ({
      task,
      lr: i === 0 ? 0.1 : 0.003,
      loss: 0.5 - fitness / 2,
      metric: null,
      score: fitness + (i === 0 ? 0.05 : -0.05),
      curve: Array.from({ length: 8 }, (_, k) => Math.exp(-slope * k) + 0.01),
      ms: 100,
    })),
  };
}

interface Spec {
  parent: number | null;
  mutation: MutationKind;
  detail: string;
  source: string;
  simplified?: string;
  status: ChildStatus;
  fitness: number | null;
  cachedFrom?: number;
  failure?: string;
}

const SPECS: Spec[] = [
  { parent: null, mutation: 'seed', detail: 'sgd', source: SGD, status: 'ok', fitness: 0 },
  { parent: null, mutation: 'seed', detail: 'momentum', source: MOMENTUM, status: 'ok', fitness: 0.2 },
  { parent: 2, mutation: 'insert', detail: 'insert s: sign(buf)', source: FOUND, simplified: FOUND_SIMPLIFIED, status: 'ok', fitness: 0.5 },
  { parent: 3, mutation: 'modify', detail: 'modify update: s * lr -> buf * lr', source: MOMENTUM, status: 'cached', fitness: 0.2, cachedFrom: 2 },
  { parent: 1, mutation: 'modify', detail: 'modify update: g * lr -> g / lr', source: SGD.replace('g * lr', 'g / lr'), status: 'failed', fitness: null, failure: 'diverged (loss NaN at step 3)' },
  { parent: 3, mutation: 'delete', detail: 'delete d', source: FOUND_SIMPLIFIED, status: 'pruned', fitness: 0.1 },
];

/** Makes the run under a fresh temporary directory; returns that directory and the run's name. */
export function makeRun(name = 'test-run'): { dir: string; name: string; runDir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-runs-'));
  const runDir = path.join(dir, name);
  const store = SqliteRunStore.create(runDir, {
    name,
    config: {
      seed: 1,
      budget: 10,
      population: 4,
      tournament: 2,
      seeds: ['sgd', 'momentum'],
      restartAfter: 0,
      mutationWeights: { insert: 1, delete: 1, modify: 1 },
      maxStatements: 30,
      hurdle: 0.5,
      suite: 'standard',
      metavalEvery: 0,
      metavalTop: 1,
      batch: 2,
      lrs: [],
      evalSeed: 0,
    },
    seeds: [
      { name: 'sgd', source: SGD },
      { name: 'momentum', source: MOMENTUM },
    ],
  });
  let counters: Counters = { ...ZERO_COUNTERS };
  SPECS.forEach((s, i) => {
    const id = i + 1;
    const trained = s.status === 'ok' || s.status === 'pruned';
    const child: ChildRecord = {
      id,
      parent: s.parent,
      mutation: s.mutation,
      mutationDetail: s.detail,
      source: s.source,
      simplified: s.simplified ?? s.source,
      hash: `hash${id}`,
      fingerprint: `fp${id}`,
      status: s.status,
      fitness: s.fitness,
      quick: trained && s.fitness !== null ? suite('quick', s.fitness, 0.3 + id / 10) : null,
      standard: s.status === 'ok' && s.fitness !== null ? suite('standard', s.fitness, 0.2 + id / 10) : null,
      metaval: null,
      size: s.source.split('\n').filter((l) => l.startsWith('  ') && !l.includes('return')).length,
      cachedFrom: s.cachedFrom ?? null,
      failure: s.failure ?? null,
      ms: trained ? 400 : 0,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(),
    };
    const improves = s.fitness !== null && (counters.bestFitness === null || s.fitness > counters.bestFitness) && s.status !== 'cached';
    counters = {
      ...counters,
      committed: id,
      ok: counters.ok + (s.status === 'ok' ? 1 : 0),
      pruned: counters.pruned + (s.status === 'pruned' ? 1 : 0),
      cached: counters.cached + (s.status === 'cached' ? 1 : 0),
      failed: counters.failed + (s.status === 'failed' ? 1 : 0),
      bestId: improves ? id : counters.bestId,
      bestFitness: improves ? s.fitness : counters.bestFitness,
      lastImprovement: improves ? id : counters.lastImprovement,
      elapsedMs: counters.elapsedMs + 1000,
    };
    store.commit({ child, add: trained && s.fitness !== null ? [{ id, fitness: s.fitness }] : [], remove: [], counters, metaval: id === 3 ? [3] : [] });
  });
  store.setMetaval(3, suite('metaval', 0.4, 0.25));
  store.setStatus('stopped');
  store.close();
  return { dir, name, runDir };
}
