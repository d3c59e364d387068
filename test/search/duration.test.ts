import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration } from '../../search/duration.js';

describe('durations', () => {
  it('parses the forms people write', () => {
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('45')).toBe(45_000);
    expect(parseDuration(' 2H ')).toBe(7_200_000);
  });

  it('rejects anything else with a one-line message naming the option', () => {
    for (const bad of ['', 'soon', '30x', 'm30', '0m', '-5m', '30m!', '1h 30m'])
      expect(() => parseDuration(bad, '--time')).toThrow(DurationError);
    expect(() => parseDuration('30x', '--time')).toThrow("--time: expected a duration such as 90s, 30m, 2h or 1h30m, got '30x'");
  });

  it('formats budgets and ETAs', () => {
    expect(formatDuration(3_900_000)).toBe('1h 05m');
    expect(formatDuration(250_000)).toBe('4m 10s');
    expect(formatDuration(12_400)).toBe('12s');
  });
});
