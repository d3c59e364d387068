import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Dashboard, phaseOf, uiReducer } from '../../../src/tui/Dashboard.js';
import { initialState } from '../../../src/tui/state.js';
import { makeChild, makeStats } from './fixtures.js';
import { FakeSource, sleep, until } from './fake-source.js';

const KEYS = { up: '\u001B[A', down: '\u001B[B', enter: '\r', ctrlC: '\u0003' };

function mount(cols = 80, rows = 24) {
  const source = new FakeSource();
  const onQuit: string[] = [];
  const r = render(
    <Dashboard
      source={source}
      columns={cols}
      rows={rows}
      flushMs={5}
      now={() => 0}
      interactive
      onQuit={() => onQuit.push('quit')}
      onForceQuit={() => onQuit.push('force')}
    />,
  );
  const frame = () => r.lastFrame() ?? '';
  return { source, r, frame, onQuit };
}

function feed(source: FakeSource, n: number) {
  source.emit({ type: 'start', run: 'test-run', resumed: false, budget: 50, workers: 2 });
  for (let id = 1; id <= n; id++) {
    const child = makeChild({ id, fitness: id / 10 });
    source.emit({ type: 'child', child, stats: makeStats({ judged: id, budget: 50, bestId: id, bestFitness: id / 10 }) });
    source.emit({ type: 'best', child });
  }
}

/** The live area: what stays below the finished rows printed once by <Static>. */
function live(frame: string): string[] {
  return frame.split('\n').filter((l) => !l.startsWith('★'));
}

describe('Dashboard', () => {
  it('shows header, leaderboard, chart, program and events within 80x24', async () => {
    const { source, frame, r } = mount();
    await until(() => source.listeners.size > 0);
    feed(source, 12);
    await until(() => frame().includes('12/50'));
    const lines = live(frame());
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const text = lines.join('\n');
    expect(text).toContain('test-run');
    expect(text).toMatch(/ 1\s+12\s+1\.200/);
    expect(text).toContain('best fitness');
    expect(text).toContain('program #12');
    expect(text).toContain('events');
    expect(frame()).toContain('★ new best #12 1.200');
    r.unmount();
  });

  it('batches a burst of events into few renders', async () => {
    const { source, r } = mount();
    await until(() => source.listeners.size > 0);
    const before = r.frames.length;
    feed(source, 100);
    await sleep(60);
    // 300 events, each of which would otherwise be a frame.
    expect(r.frames.length - before).toBeLessThan(20);
    r.unmount();
  });

  it('moves the selection with the arrows and expands it with enter', async () => {
    const { source, frame, r } = mount();
    await until(() => source.listeners.size > 0);
    feed(source, 5);
    await until(() => frame().includes('program #5'));
    r.stdin.write(KEYS.down);
    await until(() => frame().includes('program #4'));
    expect(frame()).toMatch(/› +2\s+4/);
    r.stdin.write(KEYS.up);
    await until(() => /program #5 {2}rank 1 .*(?<!following best)$/m.test(frame()));
    r.stdin.write(KEYS.down);
    await until(() => frame().includes('program #4'));
    r.stdin.write(KEYS.enter);
    await until(() => frame().includes('mutation: modify'));
    expect(frame()).not.toContain('best fitness');
    r.stdin.write(KEYS.enter);
    await until(() => frame().includes('best fitness'));
    r.unmount();
  });

  it('pauses and resumes with p', async () => {
    const { source, frame, r } = mount();
    await until(() => source.listeners.size > 0);
    feed(source, 2);
    await until(() => frame().includes('2/50'));
    r.stdin.write('p');
    await until(() => frame().includes('pausing'));
    expect(source.calls).toEqual(['pause']);
    source.emit({ type: 'paused' });
    await until(() => frame().includes('● paused'));
    expect(frame()).toContain('p resume');
    r.stdin.write('p');
    await until(() => source.calls.length === 2);
    expect(source.calls).toEqual(['pause', 'resume']);
    source.emit({ type: 'resumed' });
    await until(() => frame().includes('● running'));
    r.unmount();
  });

  it('stops the search on q, and a second Ctrl-C forces', async () => {
    const { source, frame, r, onQuit } = mount();
    await until(() => source.listeners.size > 0);
    feed(source, 2);
    await until(() => frame().includes('2/50'));
    r.stdin.write('q');
    await until(() => frame().includes('stopping'));
    expect(source.calls).toEqual(['stop']);
    expect(onQuit).toEqual(['quit']);
    r.stdin.write(KEYS.ctrlC);
    await until(() => onQuit.length === 2);
    expect(onQuit).toEqual(['quit', 'force']);
    expect(source.calls).toEqual(['stop']);
    source.emit({ type: 'done', stats: makeStats({ judged: 2, budget: 50 }), reason: 'stopped' });
    await until(() => frame().includes('stopped (resumable)'));
    r.unmount();
  });

  it('stops the search on Ctrl-C', async () => {
    const { source, r } = mount();
    await until(() => source.listeners.size > 0);
    r.stdin.write(KEYS.ctrlC);
    await until(() => source.calls.length > 0);
    expect(source.calls).toEqual(['stop']);
    r.unmount();
  });

  it('uses a wide terminal for two columns', async () => {
    const { source, frame, r } = mount(160, 40);
    await until(() => source.listeners.size > 0);
    feed(source, 30);
    await until(() => frame().includes('30/50'));
    const lines = live(frame());
    expect(lines.length).toBeLessThanOrEqual(39);
    // The chart sits beside the leaderboard, and every task column fits.
    expect(lines.find((l) => l.includes('mnist_m'))).toContain('best fitness');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(160);
    r.unmount();
  });
});

describe('uiReducer and phaseOf', () => {
  const leaders = [makeChild({ id: 3 }), makeChild({ id: 2 }), makeChild({ id: 1 })];
  it('selects by id and clamps at the ends', () => {
    let ui = { selectedId: null, expanded: false, requested: null } as Parameters<typeof uiReducer>[0];
    ui = uiReducer(ui, { type: 'move', delta: -1, leaders });
    expect(ui.selectedId).toBe(3);
    ui = uiReducer(ui, { type: 'move', delta: 5, leaders });
    expect(ui.selectedId).toBe(1);
    ui = uiReducer(ui, { type: 'follow' });
    expect(ui.selectedId).toBeNull();
  });
  it('derives the phase from the events and the last request', () => {
    const s = initialState({ run: 'r' });
    expect(phaseOf(s, null)).toBe('running');
    expect(phaseOf(s, 'pause')).toBe('pausing');
    expect(phaseOf({ ...s, paused: true }, 'pause')).toBe('paused');
    expect(phaseOf({ ...s, paused: true }, 'resume')).toBe('running');
    expect(phaseOf(s, 'stop')).toBe('stopping');
    expect(phaseOf({ ...s, finished: 'stopped' }, 'stop')).toBe('stopped');
    expect(phaseOf(initialState(), null)).toBe('starting');
  });
});
