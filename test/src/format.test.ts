import { describe, expect, it } from 'vitest';
import { UNLIMITED_CHILDREN } from '../../search/config.js';
import { budgetText, eta, formatAgo, formatDuration, formatFitness, formatLr, formatRate, judgedOf, progressBar, truncate } from '../../src/format.js';

describe('format', () => {
  it('names a child budget, or none in a run bounded by --time alone', () => {
    expect(judgedOf(12, 1000)).toBe('12/1000');
    expect(budgetText(1000)).toBe('budget 1000');
    expect(judgedOf(465, UNLIMITED_CHILDREN)).toBe('465');
    expect(budgetText(UNLIMITED_CHILDREN)).toBe('no child limit');
  });
  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(-1)).toBe('-');
  });
  it('formats fitness and learning rates', () => {
    expect(formatFitness(null)).toBe('-');
    expect(formatFitness(0.12345)).toBe('0.123');
    expect(formatFitness(-1.5)).toBe('-1.500');
    expect(formatFitness(123.45)).toBe('123.5');
    expect(formatFitness(NaN)).toBe('fail');
    expect(formatFitness(0.00001)).toBe('1.0e-5');
    expect(formatLr(0.001)).toBe('1e-3');
    expect(formatLr(0.25)).toBe('0.25');
    expect(formatLr(null)).toBe('-');
  });
  it('formats rates, ages and ETAs', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(1.25)).toBe('1.3/s');
    expect(formatRate(0.5)).toBe('0.50/s');
    expect(formatRate(25)).toBe('25/s');
    expect(formatAgo(90_000)).toBe('1m');
    expect(eta(50, 100, 10)).toBe(5000);
    expect(eta(100, 100, 0)).toBe(0);
    expect(eta(10, 100, 0)).toBeNull();
  });
  it('draws progress bars of the exact width', () => {
    expect(progressBar(0, 10)).toBe('░'.repeat(10));
    expect(progressBar(1, 10)).toBe('█'.repeat(10));
    expect(progressBar(0.5, 10)).toBe('█████░░░░░');
    expect(progressBar(0.55, 10)).toBe('█████▌░░░░');
    expect(progressBar(2, 4)).toHaveLength(4);
  });
  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(truncate('abc', 0)).toBe('');
  });
});
