import { Box, Text } from 'ink';
import { stepChart } from './chart.js';
import { formatFitness, padLeft } from '../format.js';
import type { BestPoint } from './state.js';

export interface FitnessChartProps {
  history: readonly BestPoint[];
  /** Children judged so far: the chart's right edge. */
  judged: number;
  width: number;
  /** Plot rows (the title is one more). */
  height: number;
}

const AXIS = 7;

/** Best fitness against children judged, as a filled step chart with its range on the left. */
export function FitnessChart(p: FitnessChartProps) {
  const plotWidth = Math.max(1, p.width - AXIS - 1);
  const chart = stepChart(
    p.history.map((h) => ({ x: h.judged, y: h.fitness })),
    p.judged,
    plotWidth,
    p.height,
  );
  const first = p.history[0];
  const span = first ? `children ${first.judged}–${Math.max(p.judged, first.judged)}` : 'no best yet';
  return (
    <Box flexDirection="column" width={p.width} height={p.height + 1}>
      <Text wrap="truncate">
        <Text bold>best fitness</Text> <Text color="gray">{span}</Text>
      </Text>
      {chart.lines.map((line, r) => {
        const label = !first ? '' : r === 0 ? formatFitness(chart.hi) : r === p.height - 1 ? formatFitness(chart.lo) : '';
        return (
          <Text key={r} wrap="truncate">
            <Text color="gray">{padLeft(label, AXIS)}</Text> <Text color="green">{line}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
