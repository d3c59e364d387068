/**
 * A filled step chart drawn with the eight lower block characters, for the
 * best fitness over a run. Pure: points in, lines of exactly `width`
 * characters out.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface Chart {
  lines: string[];
  /** The y range the rows span (bottom, top). */
  lo: number;
  hi: number;
}

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * Draw `points` (sorted by x, a step function: y holds until the next point)
 * over x in [points[0].x, xMax] into `height` rows of `width` cells. Columns
 * before the first point are blank.
 */
export function stepChart(points: readonly ChartPoint[], xMax: number, width: number, height: number): Chart {
  const w = Math.max(0, Math.floor(width));
  const h = Math.max(0, Math.floor(height));
  const first = points[0];
  if (!first || w === 0 || h === 0) return { lines: Array.from({ length: h }, () => ' '.repeat(w)), lo: 0, hi: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p.y);
    hi = Math.max(hi, p.y);
  }
  const x0 = first.x;
  const x1 = Math.max(xMax, points[points.length - 1]!.x, x0);
  const levels = h * 8;
  const column: number[] = [];
  let j = 0;
  for (let c = 0; c < w; c++) {
    const x = x1 === x0 ? x1 : x0 + ((c + 1) / w) * (x1 - x0);
    while (j + 1 < points.length && points[j + 1]!.x <= x) j++;
    const y = points[j]!.y;
    // Every column shows at least a sliver; a flat series sits at half height.
    const level = hi === lo ? Math.ceil(levels / 2) : 1 + Math.round(((y - lo) / (hi - lo)) * (levels - 1));
    column.push(level);
  }
  const lines: string[] = [];
  for (let r = 0; r < h; r++) {
    const floor = (h - 1 - r) * 8;
    let line = '';
    for (const level of column) {
      const fill = Math.min(8, Math.max(0, level - floor));
      line += fill === 0 ? ' ' : BLOCKS[fill - 1];
    }
    lines.push(line);
  }
  return { lines, lo, hi };
}
