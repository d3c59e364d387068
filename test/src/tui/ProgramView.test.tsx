import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { programLines, ProgramView } from '../../../src/tui/ProgramView.js';
import { makeChild } from './fixtures.js';

describe('ProgramView', () => {
  const child = makeChild({ id: 9, fitness: 0.75, parent: 4, size: 2 });
  it('shows the simplified source under a title naming the program', () => {
    const frame = render(<ProgramView child={child} rank={2} following={false} expanded={false} width={60} height={5} />).lastFrame() ?? '';
    const lines = frame.split('\n');
    expect(lines[0]).toBe('program #9  rank 2  fitness 0.750  size 2  parent 4');
    expect(lines.slice(1, 4)).toEqual(['def train(w, g, m, lr):', '  m = interp(g, m, 0.9)', '  return sign(m) * lr, m']);
  });
  it('cuts long programs and says how much is hidden', () => {
    expect(programLines(child, false, 60, 2)).toEqual(['def train(w, g, m, lr):', '… 2 more lines (enter to expand)']);
  });
  it('adds per-task scores and the mutation when expanded', () => {
    const lines = programLines(child, true, 200, 20);
    expect(lines[0]).toBe('quadratic 0.750 @lr 0.01  rosenbrock 0.750 @lr 0.01  logreg 0.750 @lr 0.01  mnist_mlp 0.750 @lr 0.01');
    expect(lines[1]).toBe('mutation: modify s1: sqrt -> cbrt');
  });
  it('joins hyperparameter lines and drops comments when compact', () => {
    const c = makeChild({ id: 1, simplified: '# found\nlearning_rate = 0.01\nmomentum = 0.5\n\ndef train(w, g, m, lr):\n  m = m * momentum + g\n  return m * lr, m\n' });
    expect(programLines(c, false, 80, 10)).toEqual(['learning_rate=0.01 momentum=0.5', 'def train(w, g, m, lr):', '  m = m * momentum + g', '  return m * lr, m']);
    expect(programLines(c, true, 80, 20).slice(3)).toEqual(['# found', 'learning_rate = 0.01', 'momentum = 0.5', '', 'def train(w, g, m, lr):', '  m = m * momentum + g', '  return m * lr, m']);
  });
  it('says when nothing is selected', () => {
    expect(render(<ProgramView child={null} rank={null} following expanded={false} width={40} height={3} />).lastFrame()).toContain('nothing selected yet');
  });
});
