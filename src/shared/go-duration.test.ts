import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration } from './go-duration.js';

describe('Go durations', () => {
  it('formats like Go', () => {
    expect(formatGoDuration(3_600_000)).toBe('1h0m0s');
    expect(formatGoDuration(90_000)).toBe('1m30s');
    expect(formatGoDuration(5_000)).toBe('5s');
    expect(formatGoDuration(1_500)).toBe('1.5s');
    expect(formatGoDuration(0)).toBe('0s');
  });
  it('parses like Go', () => {
    expect(parseGoDuration('5s')).toBe(5000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('5')).toBeUndefined();
    expect(parseGoDuration('abc')).toBeUndefined();
    expect(parseGoDuration('')).toBeUndefined();
  });
});
