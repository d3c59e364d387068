import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Leaderboard, leaderboardColumns, windowStart } from '../../../src/tui/Leaderboard.js';
import { makeChild, TASKS } from './fixtures.js';

const leaders = [
  makeChild({ id: 12, fitness: 0.9, parent: 3, size: 5, metaval: 0.8 }),
  makeChild({ id: 3, fitness: 0.5, parent: null, size: 4 }),
  makeChild({ id: 7, fitness: 0.25, status: 'pruned' }),
];

describe('Leaderboard', () => {
  it('shows rank, id, fitness, task scores, metaval, size, parent and age', () => {
    const frame = render(<Leaderboard leaders={leaders} taskNames={TASKS} lastId={20} selected={-1} height={5} width={100} />).lastFrame() ?? '';
    const lines = frame.split('\n');
    expect(lines[0]).toMatch(/#\s+id\s+fitness\s+quadrat\s+rosenbr\s+logreg\s+mnist_m\s+metaval\s+size\s+parent\s+age/);
    expect(lines[1]).toMatch(/^\s+1\s+12\s+0\.900\s+0\.900\s+0\.900\s+0\.900\s+0\.900\s+0\.800\s+5\s+3\s+8$/);
    expect(lines[2]).toMatch(/^\s+2\s+3\s+0\.500( +0\.500){4}\s+-\s+4\s+-\s+17$/);
    // The panel keeps its height: the rows below the last leader are blank.
    expect(lines).toHaveLength(6);
    expect(lines[4]?.trim()).toBe('');
  });
  it('drops task columns that do not fit 80 columns', () => {
    expect(leaderboardColumns(TASKS, 80).map((c) => c.label)).toEqual(['#', 'id', 'fitness', 'quadrat', 'rosenbr', 'logreg', 'metaval', 'size', 'parent', 'age']);
    const frame = render(<Leaderboard leaders={leaders} taskNames={TASKS} lastId={20} selected={-1} height={5} width={80} />).lastFrame() ?? '';
    for (const l of frame.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });
  it('marks the selected row and scrolls to keep it visible', () => {
    const frame = render(<Leaderboard leaders={leaders} taskNames={[]} lastId={20} selected={2} height={2} width={80} />).lastFrame() ?? '';
    const lines = frame.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\s+2\s+3 /);
    expect(lines[2]).toMatch(/^› +3\s+7 /);
    expect(windowStart(0, 5, 10)).toBe(0);
    expect(windowStart(7, 5, 10)).toBe(3);
  });
  it('says when nothing is trained yet', () => {
    expect(render(<Leaderboard leaders={[]} taskNames={[]} lastId={0} selected={-1} height={3} width={80} />).lastFrame()).toContain('no trained program yet');
  });
});
