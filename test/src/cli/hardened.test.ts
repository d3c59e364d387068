/**
 * Regression tests of issue 13 ("hardened edges"): each case failed before
 * its fix. The table of bad inputs across every command is in
 * bad-input.test.ts; these are the defects that need more than one line.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RunStore } from '../../../search/store.js';
import { main } from '../../../src/cli/main.js';
import { makeRun } from './make-run.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function run(): ReturnType<typeof makeRun> {
  const r = makeRun();
  made.push(r.dir);
  return r;
}

/** `optevo ARGS` in-process: exit code, stdout, stderr. */
export async function cli(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true));
  const before = process.cwd();
  let code: number;
  try {
    if (cwd) process.chdir(cwd);
    process.exitCode = undefined;
    code = await main(args);
  } finally {
    process.chdir(before);
    process.exitCode = undefined;
    o.mockRestore();
    e.mockRestore();
  }
  return { code, out, err };
}

describe('a refused --resume changes nothing', () => {
  it('refuses a run locked by a live process before writing the new budget', async () => {
    const r = run();
    const holder = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(path.join(r.runDir, 'lock'), String(holder.pid));
      const bytes = fs.readFileSync(path.join(r.runDir, 'run.db'));
      const res = await cli(['search', '--resume', r.runDir, '--budget', '5000', '--no-tui', '--workers', '1']);
      expect(res.code).toBe(1);
      expect(res.err).toBe(`optevo: run ${r.runDir} is in use by process ${holder.pid}\n`);
      expect(fs.readFileSync(path.join(r.runDir, 'run.db')).equals(bytes)).toBe(true);
      const store = RunStore.open(r.runDir, { readonly: true });
      expect(store.config().budget).toBe(10);
      store.close();
      expect(fs.readFileSync(path.join(r.runDir, 'lock'), 'utf8')).toBe(String(holder.pid));
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
