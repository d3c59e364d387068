/**
 * Wall-clock budgets as people write them: `90s`, `30m`, `2h`, `1h30m`, `1d`,
 * or a bare number of seconds. Parsed to milliseconds; anything else is a
 * one-line error that shows the accepted forms.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

export function parseDuration(text: string, what = 'duration'): number {
  const s = text.trim().toLowerCase();
  const fail = (): never => {
    throw new DurationError(`${what}: expected a duration such as 90s, 30m, 2h or 1h30m, got '${text}'`);
  };
  if (s === '') fail();
  if (/^\d+(\.\d+)?$/.test(s)) return checked(Number(s) * 1000, fail);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  if (end !== s.length) fail();
  return checked(total, fail);
}

function checked(ms: number, fail: () => never): number {
  if (!Number.isFinite(ms) || ms <= 0) fail();
  return Math.round(ms);
}

/** `1h 05m`, `4m 10s`, `12s`: for budgets and ETAs. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}
