/**
 * The fault test of `optevo search`, the whole CLI as a user runs it: 20
 * trials, each a run (the first) or a resume (the others) interrupted at a
 * seeded random moment by SIGKILL, SIGINT, SIGTERM or a closed stdout, some
 * before the run even started. After every trial the run holds exactly a
 * prefix of the uninterrupted run, no live lock is left, and the next resume
 * takes it over; the last resume ends identical to the uninterrupted run.
 * Evaluation is a stand-in (paced-worker.mjs, real worker threads), so the
 * trials test signals, pipes, locks and the store, not training.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteRunStore } from '../../search/store.js';
import { essence, tempDir } from './helpers.js';
import { mulberry32 } from '../../dsl/mulberry32.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const env = { ...process.env, OPTEVO_WORKER_FILE: fileURLToPath(new URL('./fixtures/paced-worker.mjs', import.meta.url)) };
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SETTINGS = ['--budget', '400', '--population', '12', '--tournament', '3', '--batch', '4', '--seed', '21', '--seeds', 'adamw,sgd', '--metaval-every', '40', '--metaval-top', '2'];
const COMMON = ['--workers', '1', '--no-tui', '--run-dir', dir];
const TRIALS = 20;
const FAULTS = ['SIGKILL', 'SIGINT', 'SIGTERM', 'stdout'] as const;

function state(name: string) {
  const s = SqliteRunStore.open(path.join(dir, name), { readonly: true });
  try {
    return { children: s.children().map(essence), population: s.population(), status: s.info().status, metaval: s.metavalResults().map((m) => [m.id, m.requestedAt]) };
  } finally {
    s.close();
  }
}

function lockHolderAlive(name: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, name, 'lock'), 'utf8'));
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One trial: start (or resume), wait a random moment, deliver the fault, wait for the end (bounded). */
async function trial(args: string[], fault: (typeof FAULTS)[number], r: () => number): Promise<{ code: number | null; signal: string | null; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  // A quarter of the faults land while the process starts; the rest once the run is under way.
  const early = r() < 0.25;
  if (!early) {
    await new Promise<void>((res) => {
      const onData = () => (child.stdout.off('data', onData), res());
      child.stdout.on('data', onData);
      void exited.then(() => res());
    });
  }
  await new Promise((res) => setTimeout(res, Math.floor(r() * (early ? 400 : 1000))));
  if (fault === 'stdout') child.stdout.destroy();
  else child.kill(fault);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const out = await exited;
  clearTimeout(timer);
  return { ...out, err };
}

describe(`optevo search under faults (${TRIALS} trials)`, () => {
  it('each interrupted run resumes to the identical run, with no lock a resume cannot take over', async () => {
    const ref = spawnSync(process.execPath, [CLI, 'search', ...SETTINGS, ...COMMON, '--name', 'reference'], { env, encoding: 'utf8', timeout: 120_000 });
    expect(ref.status, ref.stderr).toBe(0);
    const want = state('reference');
    expect(want.children).toHaveLength(400);

    const r = mulberry32(2026);
    let identical = 0;
    for (let t = 0; t < TRIALS; t++) {
      const fault = FAULTS[t % FAULTS.length]!;
      const exists = fs.existsSync(path.join(dir, 'faulty', 'run.db'));
      const args = ['search', ...(exists ? ['--resume', 'faulty'] : [...SETTINGS, '--name', 'faulty']), ...COMMON];
      const res = await trial(args, fault, r);
      const how = `trial ${t} (${fault}): exit ${res.code ?? res.signal}\n${res.err}`;
      // (A run that reached its budget before the fault simply ended: status 0.)
      if (fault === 'SIGKILL') expect(res.signal === 'SIGKILL' || res.code === 0, how).toBe(true);
      // Handled: a checkpoint and status 0 (130 before the run existed); a signal that lands while
      // Node itself is still starting, before any of optevo runs, ends it as the signal does.
      else expect(res.code === 0 || res.code === 130 || res.signal === fault, how).toBe(true);
      // Never a stack trace; a closed stdout says how to resume.
      expect(res.err, how).not.toMatch(/internal error|at .*\.js:\d+/);
      if (fault === 'stdout' && res.code === 0 && /checkpointed/.test(res.err)) expect(res.err).toMatch(/resume with: optevo search --resume /);
      // No lock held by a live process: the next resume can take it over.
      expect(lockHolderAlive('faulty'), how).toBe(false);
      if (!fs.existsSync(path.join(dir, 'faulty', 'run.db'))) continue; // stopped before the run existed
      const got = state('faulty');
      // A handled fault checkpoints: the run is marked stopped (or done), not left running.
      if (res.signal === null) expect(got.status, how).not.toBe('running');
      // What was kept is exactly the start of the uninterrupted run.
      expect(got.children, how).toEqual(want.children.slice(0, got.children.length));
      identical++;
    }
    const last = spawnSync(process.execPath, [CLI, 'search', '--resume', 'faulty', ...COMMON], { env, encoding: 'utf8', timeout: 120_000 });
    expect(last.status, last.stderr).toBe(0);
    const end = state('faulty');
    expect(end.children).toEqual(want.children);
    expect(end.population).toEqual(want.population);
    expect(end.metaval).toEqual(want.metaval);
    expect(end.status).toBe('done');
    console.log(`fault test: ${TRIALS} trials, ${identical} with a run to compare, every one a prefix of the uninterrupted run; the last resume identical`);
  }, 600_000);
});
