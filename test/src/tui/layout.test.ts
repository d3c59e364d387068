import { describe, expect, it } from 'vitest';
import { computeLayout, FOOTER_ROWS, HEADER_ROWS } from '../../../src/tui/layout.js';

describe('computeLayout', () => {
  it('stacks the panels in 80x24 and leaves the last row free', () => {
    const l = computeLayout(80, 24);
    expect(l.wide).toBe(false);
    const rows = HEADER_ROWS + FOOTER_ROWS + (l.leaderboard.height + 1) + (l.chart.height + 1) + (l.events.height + 1);
    expect(rows).toBe(23);
    expect(l.chart.width + 1 + l.program.width).toBe(80);
    expect(l.leaderboard.height).toBeGreaterThanOrEqual(6);
  });
  it('uses two columns on a wide terminal', () => {
    const l = computeLayout(160, 50);
    expect(l.wide).toBe(true);
    expect(l.leaderboard.width + 1 + l.chart.width).toBe(160);
    expect(HEADER_ROWS + FOOTER_ROWS + l.leaderboard.height + 1 + l.program.height + 1).toBe(49);
    expect(HEADER_ROWS + FOOTER_ROWS + l.chart.height + 1 + l.events.height + 1).toBe(49);
  });
  it('survives unknown and tiny sizes', () => {
    expect(computeLayout(undefined, undefined).width).toBe(80);
    const l = computeLayout(10, 5);
    expect(l.leaderboard.height).toBeGreaterThan(0);
  });
});
