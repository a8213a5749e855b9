import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { slugify, stableProjectId } from '../project/slug.js';

describe('parseDuration', () => {
  it.each([
    ['3600', 3600],
    [3600, 3600],
    ['1h 30m', 5400],
    ['1h30m', 5400],
    ['90 minutes', 5400],
    ['1 hour and 30 minutes', 5400],
    ['1 hour, 30 minutes', 5400],
    ['1.5h', 5400],
    ['2 days', 172800],
    ['1 week', 604800],
    ['45s', 45],
    ['10 mins', 600],
    ['01:30:00', 5400],
    ['5:00', 300],
    ['2 hrs 5 secs', 7205],
  ])('%j → %d s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'soon', '1 fortnight', 'h', '10 minutes later', '-5'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('slugify', () => {
  it('lowercases, replaces non-alphanumerics, trims dashes and keeps 63 characters', () => {
    expect(slugify('Feature/ABC_1.2')).toBe('feature-abc-1-2');
    expect(slugify('--x--')).toBe('x');
    expect(slugify('a'.repeat(70))).toHaveLength(63);
    expect(slugify(`${'a'.repeat(62)}/b`)).toBe('a'.repeat(62));
  });

  it('derives a stable positive project id', () => {
    expect(stableProjectId('group/project')).toBe(stableProjectId('group/project'));
    expect(stableProjectId('group/project')).not.toBe(stableProjectId('group/other'));
    expect(stableProjectId('x')).toBeGreaterThan(0);
  });
});
