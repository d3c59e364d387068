/**
 * The device check checks: an evaluation that did not train is an error, not
 * a figure, and the report judges per-task loss agreement between backends.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertTrained } from '../../bench/gpu.js';
import { AGREEMENT, agreement, report } from '../../bench/gpu-report.js';
import { evaluate, type Evaluation } from '../../src/evaluate.js';
import { seedSource } from '../../seeds/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optevo-device-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('device check', () => {
  it('refuses an evaluation whose tasks failed with an exception as a figure', async () => {
    const good = await evaluate(seedSource('adamw'), { tasks: ['mnist8-mlp'], steps: 5, lrs: [1e-3, 1e-2], backend: 'wasm', reference: false });
    expect(() => assertTrained(good, 'it')).not.toThrow();
    const t = good.tasks[0]!;
    const broken: Evaluation = {
      ...good,
      fitness: null,
      failure: 'failed every task: every rate failed (at lr 0.0001: error: OffscreenCanvas is not defined)',
      tasks: [{ ...t, loss: null, failure: 'every rate failed', runs: t.runs.map((r) => ({ ...r, loss: null, failure: 'error: OffscreenCanvas is not defined' })) }],
    };
    expect(() => assertTrained(broken, 'the standard-suite evaluation')).toThrow(/^the standard-suite evaluation did not train: failed every task/);
    // One rate that threw is enough: the machine failed, not the program.
    const oneRate: Evaluation = { ...good, tasks: [{ ...t, runs: [t.runs[0]!, { ...t.runs[1]!, loss: null, failure: 'error: device lost' }] }] };
    expect(() => assertTrained(oneRate, 'it')).toThrow(/mnist8-mlp at lr 0.01: error: device lost/);
  });

  it('judges loss agreement at the best rate, within the stated tolerance', () => {
    const lrs = [1e-3, 1e-2, 1e-1];
    const wasm = { task: 't', losses: [0.5, 0.2, null], best: 0.2 };
    expect(agreement({ task: 't', losses: [0.5, 0.2 * (1 + AGREEMENT / 2), null], best: 0.2 }, wasm, lrs).ok).toBe(true);
    const far = agreement({ task: 't', losses: [0.5, 0.2 * (1 + 2 * AGREEMENT), 3], best: 0.2 }, wasm, lrs);
    expect(far.ok).toBe(false);
    expect(far.line).toContain('FAIL');
    expect(far.line).toContain('1 rate(s) failed on one backend only');
  });

  it('reports what is missing, with the reason the run gave', () => {
    const figures = (backend: string, loss: number) => ({
      backend,
      detail: `${backend}: test`,
      standardMlpStepsPerSecond: 100,
      largeMlpStepsPerSecond: backend === 'webgpu' ? 50 : 0.5,
      largeMlpParams: 11.2e6,
      matmul: backend === 'webgpu' ? { n: 4096, tflops: 10 } : null,
      standardSuiteEvalSeconds: backend === 'webgpu' ? 5 : 50,
      perTask: [{ task: 'mnist-mlp', ms: 1000, batched: true, stepsPerSecond: 10 }],
      lrs: [1e-3],
      tasks: [{ task: 'mnist-mlp', losses: [loss], best: loss }],
    });
    fs.writeFileSync(path.join(dir, 'wasm.json'), JSON.stringify(figures('wasm', 0.3)));
    fs.writeFileSync(path.join(dir, 'webgpu.json'), JSON.stringify(figures('webgpu', 0.3001)));
    let lines = report(dir);
    expect(lines).toContain('loss agreement: 1/1 tasks within 2% at the best rate');
    expect(lines.find((l) => l.startsWith('standard-suite candidate'))).toContain('10.00x faster on webgpu');
    fs.writeFileSync(path.join(dir, 'webgpu.json'), '');
    fs.writeFileSync(path.join(dir, 'webgpu.err'), 'gpu.js: the webgpu backend is not available: webgpu: no GPU adapter\n');
    lines = report(dir);
    expect(lines[0]).toBe('webgpu figures: missing webgpu.json: gpu.js: the webgpu backend is not available: webgpu: no GPU adapter');
  });
});
