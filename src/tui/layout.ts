/**
 * Where each panel goes for a terminal size. The live area is kept one row
 * shorter than the terminal: Ink clears the whole screen (a flicker) when its
 * output fills the terminal.
 */

export interface Panel {
  width: number;
  /** Content rows, not counting the panel's title line. */
  height: number;
}

export interface Layout {
  width: number;
  /** Side-by-side columns (a wide terminal) or one stacked column. */
  wide: boolean;
  leaderboard: Panel;
  chart: Panel;
  program: Panel;
  events: Panel;
  /** The program panel when the selected program is expanded to fill the screen. */
  expanded: Panel;
}

/** Header lines and the key-help footer line. */
export const HEADER_ROWS = 3;
export const FOOTER_ROWS = 1;
export const WIDE_COLUMNS = 120;

export function computeLayout(columns: number | undefined, rows: number | undefined): Layout {
  const width = Math.max(40, columns && columns > 0 ? columns : 80);
  const height = Math.max(12, (rows && rows > 0 ? rows : 24) - 1);
  const body = height - HEADER_ROWS - FOOTER_ROWS;
  const expanded = { width, height: Math.max(1, body - 1) };
  if (width >= WIDE_COLUMNS) {
    // The right column (chart, events) takes about a third; the leaderboard
    // keeps the rest, room for four task columns at 120.
    const right = Math.min(64, Math.max(36, Math.floor(width * 0.32)));
    const left = width - right - 1;
    const rem = Math.max(4, body - 2);
    const leaderRows = Math.ceil(rem * 0.55);
    const chartRows = Math.max(3, Math.floor(rem * 0.4));
    return {
      width,
      wide: true,
      leaderboard: { width: left, height: leaderRows },
      program: { width: left, height: rem - leaderRows },
      chart: { width: right, height: chartRows },
      events: { width: right, height: rem - chartRows },
      expanded,
    };
  }
  const rem = Math.max(3, body - 3);
  const events = Math.max(1, Math.floor(rem * 0.25));
  const middle = Math.max(1, Math.floor(rem * 0.25));
  const leaderRows = Math.max(1, rem - events - middle);
  const chartWidth = Math.min(40, Math.floor(width * 0.42));
  return {
    width,
    wide: false,
    leaderboard: { width, height: leaderRows },
    chart: { width: chartWidth, height: middle },
    program: { width: width - chartWidth - 1, height: middle },
    events: { width, height: events },
    expanded,
  };
}
