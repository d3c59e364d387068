import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Header, type HeaderProps } from '../../../src/tui/Header.js';

const props: HeaderProps = {
  run: 'demo-run',
  resumed: false,
  phase: 'running',
  elapsedMs: 125_000,
  judged: 25,
  budget: 100,
  rate: 2.5,
  cached: 4,
  pruned: 3,
  failed: 1,
  invalid: 2,
  workersBusy: 2,
  workers: 4,
  bestFitness: 0.4321,
  bestId: 17,
  width: 80,
};

describe('Header', () => {
  it('shows the run, its progress and counters in three lines of 80 columns', () => {
    const { lastFrame } = render(<Header {...props} />);
    const lines = (lastFrame() ?? '').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('demo-run');
    expect(lines[0]).toContain('running');
    expect(lines[0]).toContain('2:05');
    expect(lines[0]).toContain('best 0.432 #17');
    expect(lines[1]).toContain('25/100 25%');
    expect(lines[1]).toContain('ETA 0:30');
    expect(lines[2]).toContain('2.5/s');
    expect(lines[2]).toContain('cache 4');
    expect(lines[2]).toContain('pruned 3');
    expect(lines[2]).toContain('failed 1');
    expect(lines[2]).toContain('workers 2/4 busy');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });
  it('says when the run is paused, stopping or resumed', () => {
    expect(render(<Header {...props} phase="paused" />).lastFrame()).toContain('paused');
    expect(render(<Header {...props} phase="paused" />).lastFrame()).toContain('ETA -');
    expect(render(<Header {...props} phase="stopping" />).lastFrame()).toContain('checkpointing');
    expect(render(<Header {...props} resumed />).lastFrame()).toContain('(resumed)');
    expect(render(<Header {...props} bestId={null} />).lastFrame()).toContain('best -');
  });
});
