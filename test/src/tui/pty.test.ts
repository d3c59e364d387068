/**
 * The dashboard on a real pseudo-terminal (node-pty), driven by a stand-in
 * search: raw-mode keys, a clean exit on q and on Ctrl-C, and no full-screen
 * clears (the flicker Ink makes when its output fills the terminal).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const script = path.resolve('test/src/tui/fixtures/fake-search.mjs');
const built = fs.existsSync(path.resolve('dist/src/tui/watch.js'));

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '').replace(/\u001B[()][A-Z0-9]/g, '');

async function session(keys: string, cols: number, rows: number) {
  const pty = await import('node-pty');
  const env = { ...process.env };
  delete env['CI'];
  delete env['CONTINUOUS_INTEGRATION'];
  const p = pty.spawn(process.execPath, [script, '100000'], { cols, rows, env, name: 'xterm-256color', cwd: process.cwd() });
  let out = '';
  p.onData((d) => (out += d));
  const exited = new Promise<number>((resolve) => p.onExit((e) => resolve(e.exitCode)));
  const until = async (check: () => boolean, what: string) => {
    const end = Date.now() + 20_000;
    while (!check()) {
      if (Date.now() > end) {
        p.kill();
        throw new Error(`timed out waiting for ${what}; screen so far:\n${strip(out).slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // The leaderboard: its header and a first row (rank 1, an id, a fitness).
  await until(() => /#\s+id\s+fitness/.test(strip(out)) && /\n[ ›]+1\s+\d+\s+-?\d+\.\d+/.test(strip(out)), 'the leaderboard');
  const mark = out.length;
  p.write(keys);
  const code = await Promise.race([exited, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`no exit after ${JSON.stringify(keys)}:\n${strip(out).slice(-2000)}`)), 20_000))]);
  return { code, out, after: out.slice(mark) };
}

describe.skipIf(!built)('the dashboard on a pseudo-terminal', () => {
  it('shows the leaderboard in 80x24, and q stops the search and exits 0', async () => {
    const { code, out, after } = await session('q', 80, 24);
    expect(code).toBe(0);
    expect(strip(after)).toContain('stopped (resumable)');
    expect(strip(out)).toMatch(/EXIT quit judged=\d+/);
    // Never a full clear of the screen: the live area stays below the terminal height.
    expect(out).not.toContain('\u001B[2J');
    expect(out).not.toContain('\u001Bc');
  });

  it('stops on Ctrl-C too', async () => {
    const { code, out } = await session('\u0003', 120, 40);
    expect(code).toBe(0);
    expect(strip(out)).toMatch(/EXIT quit judged=\d+/);
  });
});
