import { Box, Text } from 'ink';
import { colorProp } from './color.js';
import { sizeOf, trainedText, type ChildRecord } from '../../search/types.js';
import { formatFitness, formatLr, truncate } from '../format.js';

export interface ProgramViewProps {
  child: ChildRecord | null;
  /** 1-based rank on the leaderboard, if ranked. */
  rank: number | null;
  /** Following the best (no explicit selection). */
  following: boolean;
  expanded: boolean;
  width: number;
  /** Content rows (the title is one more). */
  height: number;
}

const HPARAM = /^([A-Za-z_]\w*)\s*=\s*([-+0-9.eE]+)\s*(#.*)?$/;

/**
 * The program in few lines: comments and blank lines dropped, and the
 * hyperparameter lines before `def` joined into one, so that the `train`
 * body fits a small panel.
 */
export function compactSource(source: readonly string[]): string[] {
  const hparams: string[] = [];
  const rest: string[] = [];
  let inBody = false;
  for (const line of source) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t.startsWith('def ')) inBody = true;
    const m = inBody ? null : HPARAM.exec(t);
    if (m) hparams.push(`${m[1]}=${m[2]}`);
    else rest.push(line);
  }
  return hparams.length > 0 ? [hparams.join(' '), ...rest] : rest;
}

/** The lines the view shows, cut to `height` with a note of how many were left out. */
export function programLines(child: ChildRecord, expanded: boolean, width: number, height: number): string[] {
  const lines: string[] = [];
  if (expanded) {
    const tasks = child.standard?.tasks ?? child.quick?.tasks ?? [];
    if (tasks.length > 0) {
      lines.push(tasks.map((t) => `${t.task} ${formatFitness(t.score)} @lr ${formatLr(t.lr)}`).join('  '));
    }
    lines.push(`mutation: ${child.mutationDetail || child.mutation}`);
    lines.push('');
  }
  const source = trainedText(child).replace(/\s+$/, '').split('\n');
  lines.push(...(expanded ? source : compactSource(source)));
  if (lines.length > height) {
    const kept = lines.slice(0, Math.max(0, height - 1));
    kept.push(`… ${lines.length - kept.length} more lines${expanded ? '' : ' (enter to expand)'}`);
    return kept.map((l) => truncate(l, width));
  }
  return lines.map((l) => truncate(l, width));
}

/** The selected program's simplified source under a title naming it. */
export function ProgramView(p: ProgramViewProps) {
  const c = p.child;
  const title = c
    ? `program #${c.id}${p.rank === null ? '' : `  rank ${p.rank}`}  fitness ${formatFitness(c.fitness)}  size ${sizeOf(c)}  parent ${c.parent ?? '-'}${p.following ? '  (following best)' : ''}`
    : 'program';
  return (
    <Box flexDirection="column" width={p.width} height={p.height + 1}>
      <Text bold wrap="truncate">
        {title}
      </Text>
      {c ? (
        programLines(c, p.expanded, p.width, p.height).map((line, i) => (
          <Text key={i} wrap="truncate" {...colorProp(line.startsWith('…') ? 'gray' : undefined)}>
            {line === '' ? ' ' : line}
          </Text>
        ))
      ) : (
        <Text color="gray" wrap="truncate">
          nothing selected yet
        </Text>
      )}
    </Box>
  );
}
