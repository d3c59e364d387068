import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { FitnessChart } from '../../../src/tui/FitnessChart.js';

describe('FitnessChart', () => {
  it('draws the best fitness as steps with its range on the axis', () => {
    const history = [
      { judged: 1, fitness: 0.1 },
      { judged: 20, fitness: 0.5 },
    ];
    const frame = render(<FitnessChart history={history} judged={40} width={30} height={3} />).lastFrame() ?? '';
    const lines = frame.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('best fitness');
    expect(lines[0]).toContain('children 1–40');
    expect(lines[1]).toMatch(/^\s+0\.500 \s*█+$/);
    expect(lines[3]).toMatch(/^\s+0\.100 ▁+█+$/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(30);
  });
  it('waits for the first best', () => {
    expect(render(<FitnessChart history={[]} judged={0} width={30} height={3} />).lastFrame()).toContain('no best yet');
  });
});
