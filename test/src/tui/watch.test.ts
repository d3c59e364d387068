import { describe, expect, it } from 'vitest';
import { bufferedSource, reportPlain, runDashboard, shouldUseDashboard, type WatchedSearch } from '../../../src/tui/watch.js';
import type { SearchStats } from '../../../search/types.js';
import { makeChild, makeStats } from './fixtures.js';
import { FakeSource, until } from './fake-source.js';
import { FakeStdin, FakeStdout } from './fake-terminal.js';

/** A search driven by the test: stop() ends it with a 'done' event, like the real one. */
function fakeHandle(): WatchedSearch & { source: FakeSource; finish(reason: 'budget' | 'stopped'): void } {
  const source = new FakeSource();
  let resolve!: (s: SearchStats) => void;
  const done = new Promise<SearchStats>((r) => (resolve = r));
  const finish = (reason: 'budget' | 'stopped') => {
    const stats = makeStats({ judged: 3, budget: 10 });
    source.emit({ type: 'done', stats, reason });
    resolve(stats);
  };
  return {
    run: 'fake-run',
    source,
    subscribe: (l) => source.subscribe(l),
    pause: () => source.pause(),
    resume: () => source.resume(),
    stop: async () => {
      source.stop();
      setTimeout(() => finish('stopped'), 20);
    },
    stats: () => makeStats({ judged: 0, budget: 10 }),
    done,
    finish,
  };
}

function strip(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '');
}

describe('runDashboard', () => {
  it('renders events, stops the search on q and resolves once it is checkpointed', async () => {
    const h = fakeHandle();
    const stdout = new FakeStdout();
    const stdin = new FakeStdin();
    const running = runDashboard(h, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stderr: stdout as unknown as NodeJS.WriteStream,
      flushMs: 10,
      handleSignals: false,
      patchConsole: false,
      initial: { run: 'fake-run' },
    });
    // Events sent before the dashboard subscribed are not lost.
    h.source.emit({ type: 'start', run: 'fake-run', resumed: false, budget: 10, workers: 1 });
    h.source.emit({ type: 'child', child: makeChild({ id: 1, fitness: 0.5 }), stats: makeStats({ judged: 1, budget: 10 }) });
    await until(() => strip(stdout.out).includes('1/10'));
    stdin.type('q');
    const { reason, stats } = await running;
    expect(reason).toBe('quit');
    expect(stats?.judged).toBe(3);
    expect(h.source.calls).toEqual(['stop']);
    expect(stdin.rawMode[0]).toBe(true);
    expect(stdin.rawMode.at(-1)).toBe(false);
    expect(strip(stdout.out)).toContain('stopped (resumable)');
  });

  it('keeps the final screen after the budget until q', async () => {
    const h = fakeHandle();
    const stdout = new FakeStdout();
    const stdin = new FakeStdin();
    let settled = false;
    const running = runDashboard(h, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      flushMs: 10,
      handleSignals: false,
      patchConsole: false,
      initial: {},
    }).then((r) => {
      settled = true;
      return r;
    });
    h.finish('budget');
    await until(() => strip(stdout.out).includes('search finished'));
    expect(settled).toBe(false);
    stdin.type('q');
    expect((await running).reason).toBe('quit');
    expect(h.source.calls).toEqual([]);
  });

  it('returns when the search ends if nobody can press a key', async () => {
    const h = fakeHandle();
    const stdout = new FakeStdout();
    const running = runDashboard(h, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: new FakeStdin(false) as unknown as NodeJS.ReadStream,
      flushMs: 10,
      handleSignals: false,
      patchConsole: false,
      initial: {},
    });
    h.finish('budget');
    expect((await running).reason).toBe('done');
  });
});

describe('reportPlain', () => {
  it('prints lines until the search ends, naming a run outside runs/ by its directory', async () => {
    const h = { ...fakeHandle(), dir: '/tmp/elsewhere/fake-run' };
    const lines: string[] = [];
    const watching = reportPlain(h, { write: (l) => lines.push(l), handleSignals: false });
    h.source.emit({ type: 'start', run: 'fake-run', resumed: false, budget: 10, workers: 1 });
    h.finish('stopped');
    expect((await watching).judged).toBe(3);
    expect(lines[0]).toBe('started run fake-run: budget 10, 1 worker');
    expect(lines).toContain('resume with: optevo search --resume /tmp/elsewhere/fake-run');
    expect(h.source.listeners.size).toBe(0);
  });
});

describe('bufferedSource', () => {
  it('replays early events to the first subscriber, then forwards', () => {
    const h = fakeHandle();
    const b = bufferedSource(h);
    h.source.emit({ type: 'paused' });
    const seen: string[] = [];
    b.subscribe((e) => seen.push(e.type));
    h.source.emit({ type: 'resumed' });
    expect(seen).toEqual(['paused', 'resumed']);
    b.close();
    expect(h.source.listeners.size).toBe(0);
  });
});

describe('shouldUseDashboard', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  it('needs a terminal, no --no-tui and no CI', () => {
    expect(shouldUseDashboard({ stdout: tty, env: {} })).toBe(true);
    expect(shouldUseDashboard({ stdout: tty, env: {}, tui: false })).toBe(false);
    expect(shouldUseDashboard({ stdout: { isTTY: false } as NodeJS.WriteStream, env: {} })).toBe(false);
    expect(shouldUseDashboard({ stdout: tty, env: { CI: 'true' } })).toBe(false);
    expect(shouldUseDashboard({ stdout: tty, env: { CI: 'false' } })).toBe(true);
    expect(shouldUseDashboard({ stdout: tty, env: { TERM: 'dumb' } })).toBe(false);
  });
});
