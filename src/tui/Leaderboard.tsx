import { Box, Text } from 'ink';
import { colorProp } from './color.js';
import { rankedTasks, sizeOf, type ChildRecord } from '../../search/types.js';
import { abbreviate, formatFitness, padLeft, padRight } from '../format.js';

export interface LeaderboardProps {
  leaders: readonly ChildRecord[];
  /** Task names: one score column each, as many as fit. */
  taskNames: readonly string[];
  /** Highest child id so far: a leader's age is counted in children since it was made. */
  lastId: number;
  /** Index into `leaders` of the selected row; -1 for none. */
  selected: number;
  /** Data rows (the column header is one more). */
  height: number;
  width: number;
}

const TASK_WIDTH = 7;

interface Column {
  label: string;
  width: number;
  align: 'left' | 'right';
  value: (c: ChildRecord, rank: number, lastId: number) => string;
}

const FIXED_LEFT: Column[] = [
  { label: '#', width: 3, align: 'right', value: (_c, rank) => String(rank) },
  { label: 'id', width: 6, align: 'right', value: (c) => String(c.id) },
  { label: 'fitness', width: 8, align: 'right', value: (c) => formatFitness(c.fitness) },
];

const FIXED_RIGHT: Column[] = [
  { label: 'metaval', width: 8, align: 'right', value: (c) => formatFitness(c.metaval) },
  { label: 'size', width: 4, align: 'right', value: (c) => String(sizeOf(c)) },
  { label: 'parent', width: 6, align: 'right', value: (c) => (c.parent === null ? '-' : String(c.parent)) },
  { label: 'age', width: 5, align: 'right', value: (c, _r, lastId) => String(Math.max(0, lastId - c.id)) },
];

function taskColumn(task: string): Column {
  return {
    label: abbreviate(task, TASK_WIDTH),
    width: TASK_WIDTH,
    align: 'right',
    value: (c) => {
      const t = rankedTasks(c).find((x) => x.task === task);
      return t ? formatFitness(t.score) : '-';
    },
  };
}

/** The columns that fit `width`: the fixed ones always, then as many task columns as room allows. */
export function leaderboardColumns(taskNames: readonly string[], width: number): Column[] {
  const fixed = [...FIXED_LEFT, ...FIXED_RIGHT].reduce((n, c) => n + c.width + 1, 2);
  const room = Math.max(0, Math.floor((width - fixed) / (TASK_WIDTH + 1)));
  const tasks = taskNames.slice(0, room).map(taskColumn);
  return [...FIXED_LEFT, ...tasks, ...FIXED_RIGHT];
}

function cell(col: Column, text: string): string {
  return col.align === 'right' ? padLeft(text, col.width) : padRight(text, col.width);
}

/** The first row shown so that the selected row is visible. */
export function windowStart(selected: number, height: number, total: number): number {
  if (selected < height) return 0;
  return Math.min(Math.max(0, total - height), selected - height + 1);
}

/** Rank, id, fitness, per-task scores, meta-validation, size, parent and age of the best programs. */
export function Leaderboard(p: LeaderboardProps) {
  const columns = leaderboardColumns(p.taskNames, p.width);
  const start = windowStart(Math.max(0, p.selected), p.height, p.leaders.length);
  const rows = p.leaders.slice(start, start + p.height);
  const header = '  ' + columns.map((c) => cell(c, c.label)).join(' ');
  return (
    <Box flexDirection="column" width={p.width} height={p.height + 1}>
      <Text bold wrap="truncate">
        {header}
      </Text>
      {rows.length === 0 ? (
        <Text color="gray" wrap="truncate">
          {'  '}no trained program yet
        </Text>
      ) : null}
      {rows.map((c, i) => {
        const index = start + i;
        const isSelected = index === p.selected;
        const text = columns.map((col) => cell(col, col.value(c, index + 1, p.lastId))).join(' ');
        return (
          <Text
            key={c.id}
            wrap="truncate"
            inverse={isSelected}
            {...colorProp(index === 0 ? 'green' : c.status === 'pruned' ? 'gray' : undefined)}
          >
            {isSelected ? '› ' : '  '}
            {text}
          </Text>
        );
      })}
    </Box>
  );
}
