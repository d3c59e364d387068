import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerPool } from '../../src/pool.js';
import type { EvalJob } from '../../search/types.js';

const faultWorker = fileURLToPath(new URL('./fixtures/fault-worker.mjs', import.meta.url));
const job = (childId: number, source: string): EvalJob => ({ childId, source, suite: 'quick', seed: 1, lrs: [] });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-pool-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('WorkerPool (real worker threads)', () => {
  it('survives a crash, a hang, a throw and a NaN: each yields a failed outcome and a fresh worker', async () => {
    const logs: string[] = [];
    const pool = new WorkerPool({ workers: 2, timeoutMs: 1500, filename: faultWorker, onLog: (_l, m) => logs.push(m) });
    try {
      const [crash, hang, thrown, nan, fine] = await Promise.all([
        pool.evaluate(job(1, '# crash')),
        pool.evaluate(job(2, '# hang')),
        pool.evaluate(job(3, '# throw')),
        pool.evaluate(job(4, '# nan')),
        pool.evaluate(job(5, 'abc')),
      ]);
      expect(crash).toMatchObject({ ok: false, crashed: true });
      expect(hang).toMatchObject({ ok: false, timedOut: true, reason: 'timed out after 1.5 s' });
      expect(thrown).toMatchObject({ ok: false, reason: 'program exploded' });
      expect(thrown).not.toHaveProperty('crashed');
      expect(nan).toEqual({ ok: true, result: { suite: 'quick', fitness: null, tasks: [], ms: 1, failure: 'NaN loss at step 1' } });
      expect(fine).toEqual({ ok: true, result: { suite: 'quick', fitness: 3, tasks: [], ms: 1 } });
      // The pool still works after losing two workers.
      const after = await Promise.all([pool.evaluate(job(6, 'abcd')), pool.evaluate(job(7, 'ab'))]);
      expect(after.map((o) => (o.ok ? o.result.fitness : null))).toEqual([4, 2]);
      expect(pool.busy()).toBe(0);
      // The replacement workers say so as they start; on a loaded machine that can trail the results a little.
      for (let i = 0; i < 100 && logs.filter((l) => /ready/.test(l)).length < 4; i++) await new Promise((r) => setTimeout(r, 100));
      expect(logs.filter((l) => /ready/.test(l)).length).toBeGreaterThanOrEqual(4);
    } finally {
      await pool.close();
    }
  });

  it('starts urgent jobs before the waiting ones, and cancels the waiting ones on request, letting the running one finish', async () => {
    const pool = new WorkerPool({ workers: 1, timeoutMs: 5000, filename: faultWorker });
    try {
      const order: number[] = [];
      const run = (id: number, urgent = false) =>
        pool.evaluate({ ...job(id, '# sleep'), ...(urgent ? { urgent: true } : {}) }).then((o) => {
          if (o.ok) order.push(id);
          return o;
        });
      const first = [run(1), run(2), run(3), run(4, true), run(5, true)];
      await Promise.all(first);
      expect(order).toEqual([1, 4, 5, 2, 3]);
      const second = [run(6), run(7), run(8)];
      pool.cancelQueued();
      const out = await Promise.all(second);
      expect(out[0]).toMatchObject({ ok: true });
      expect(out.slice(1)).toEqual([
        { ok: false, reason: 'cancelled before it started', cancelled: true },
        { ok: false, reason: 'cancelled before it started', cancelled: true },
      ]);
      expect(pool.busy()).toBe(0);
      expect((await run(9)).ok).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('runs at most `workers` jobs at once, and the time limit counts running time only', async () => {
    const pool = new WorkerPool({ workers: 2, timeoutMs: 700, filename: faultWorker });
    try {
      let peak = 0;
      const jobs = Array.from({ length: 6 }, (_, i) => {
        const p = pool.evaluate(job(i + 1, '# sleep'));
        peak = Math.max(peak, pool.busy());
        return p;
      });
      const out = await Promise.all(jobs);
      // Six 200 ms jobs on two threads take 600+ ms: queued ones did not time out.
      expect(out.every((o) => o.ok)).toBe(true);
      expect(peak).toBe(2);
    } finally {
      await pool.close();
    }
  });
});

describe('a search on real worker threads that crash and hang', () => {
  it('retries a crash or hang once, then stops the run with the reason, recording nothing for that child as the program\'s', async () => {
    const { startSearch } = await import('../../search/evolution.js');
    const { createRun, testConfig } = await import('./helpers.js');
    const store = createRun(tmp, testConfig({ budget: 24, batch: 4 }), 'crashy');
    const logs: string[] = [];
    const pool = new WorkerPool({ workers: 2, timeoutMs: 800, filename: fileURLToPath(new URL('./fixtures/crash-worker.mjs', import.meta.url)) });
    const h = startSearch({ store, executor: pool });
    h.subscribe((e) => e.type === 'log' && logs.push(e.message));
    try {
      const err = (await h.done.then(() => null, (e: Error) => e))!;
      expect(err?.message).toMatch(/^child (\d+) could not be judged \(quick suite\): (worker exited with code: 7|timed out after 0.8 s)\. This is a fault of the machine/);
      const id = Number(/^child (\d+)/.exec(err.message)![1]);
      expect(id % 5 === 0 || id % 7 === 0).toBe(true);
      const kids = store.children();
      expect(kids.length).toBeLessThan(id);
      expect(kids.every((c) => c.status !== 'failed')).toBe(true);
      // The fault was retried once, and said so; the log keeps the real reason.
      expect(logs.some((l) => new RegExp(`child ${id} \\(quick\\): .*; retrying once`).test(l))).toBe(true);
      expect(store.logs().at(-1)!.message).toBe(err.message);
    } finally {
      await pool.close();
      store.close();
    }
  });

  it('tells what each running evaluation is doing: child, suite, task, rate group, step', async () => {
    const pool = new WorkerPool({ workers: 1, timeoutMs: 60_000, backend: 'wasm' });
    try {
      const seen: string[] = [];
      const running = pool.evaluate({ childId: 7, source: 'def train(w, g, lr):\n  return g * lr\n', suite: 'quick', seed: 1, lrs: [0.01, 0.1], steps: 60 });
      let done = false;
      void running.then(() => (done = true));
      for (let i = 0; i < 2000 && !done; i++) {
        for (const p of pool.inProgress()) if (p.task !== null) seen.push(`${p.childId} ${p.suite} ${p.task} ${p.lrs.join(',')} ${p.step}/${p.steps}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect((await running).ok).toBe(true);
      expect(pool.inProgress()).toEqual([]);
      expect(seen.length).toBeGreaterThan(0);
      for (const line of seen) expect(line).toMatch(/^7 quick (quadratic|rosenbrock|sparse-logistic|mnist8-mlp) [\d.e,-]+ \d+\/60$/);
    } finally {
      await pool.close();
    }
  });
});
