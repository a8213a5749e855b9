import { describe, expect, it } from 'vitest';
import { compressionLevel } from './compression-level.js';

describe('compressionLevel', () => {
  it.each([
    ['fastest', 0],
    ['fast', 1],
    ['default', 5],
    ['', 5],
    [undefined, 5],
    ['slow', 7],
    ['slowest', 9],
  ])('%j → %d without a warning', (value, level) => {
    const warnings: string[] = [];
    expect(compressionLevel(value, (m) => warnings.push(m))).toBe(level);
    expect(warnings).toEqual([]);
  });

  it.each(['FAST', 'best', '9', ' fast', 'toString', '__proto__'])('%j warns in gitlab-runner words and falls back to default', (value) => {
    const warnings: string[] = [];
    expect(compressionLevel(value, (m) => warnings.push(m))).toBe(5);
    expect(warnings).toEqual([`compression level ${JSON.stringify(value)} is invalid, falling back to default`]);
  });
});
