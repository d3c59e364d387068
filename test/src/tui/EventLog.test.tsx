import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../../src/tui/EventLog.js';
import type { EventLine } from '../../../src/tui/state.js';

describe('EventLog', () => {
  it('shows the most recent events, worker messages tagged, on one line each', () => {
    const events: EventLine[] = [
      { key: 0, at: 0, level: 'info', text: 'started' },
      { key: 1, at: 0, level: 'warn', text: 'slow task', worker: 2 },
      { key: 2, at: 0, level: 'best', text: 'new best #4' },
      { key: 3, at: 0, level: 'error', text: 'worker crashed\nstack line' },
    ];
    const lines = (render(<EventLog events={events} width={40} height={3} />).lastFrame() ?? '').split('\n');
    expect(lines).toEqual(['events', '[w2] slow task', 'new best #4', 'worker crashed ⏎ stack line']);
  });
});
