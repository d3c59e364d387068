import { describe, expect, it } from 'vitest';
import { stepChart } from '../../../src/tui/chart.js';

describe('stepChart', () => {
  it('is blank without points', () => {
    expect(stepChart([], 10, 5, 2).lines).toEqual(['     ', '     ']);
  });
  it('draws a rising step function, lowest value as a sliver', () => {
    const c = stepChart(
      [
        { x: 0, y: 0 },
        { x: 5, y: 1 },
      ],
      10,
      10,
      2,
    );
    expect(c.lo).toBe(0);
    expect(c.hi).toBe(1);
    expect(c.lines).toEqual(['    ██████', '▁▁▁▁██████']);
    for (const l of c.lines) expect(l).toHaveLength(10);
  });
  it('puts a flat series at half height', () => {
    expect(stepChart([{ x: 3, y: 0.5 }], 3, 3, 2).lines).toEqual(['   ', '███']);
  });
});
