import { Box, Text } from 'ink';
import { colorProp } from './color.js';
import type { EventLine } from './state.js';

export interface EventLogProps {
  events: readonly EventLine[];
  width: number;
  /** Lines shown (the title is one more): the most recent ones. */
  height: number;
}

const COLOR: Record<EventLine['level'], string | undefined> = {
  info: undefined,
  warn: 'yellow',
  error: 'red',
  best: 'green',
};

/** Recent notable events and worker messages, newest last. */
export function EventLog(p: EventLogProps) {
  const shown = p.events.slice(Math.max(0, p.events.length - p.height));
  return (
    <Box flexDirection="column" width={p.width} height={p.height + 1}>
      <Text bold wrap="truncate">
        events
      </Text>
      {shown.map((e) => (
        <Text key={e.key} wrap="truncate" {...colorProp(COLOR[e.level])}>
          {e.worker === undefined ? '' : `[w${e.worker}] `}
          {e.text.replace(/\s*\n\s*/g, ' ⏎ ')}
        </Text>
      ))}
    </Box>
  );
}
