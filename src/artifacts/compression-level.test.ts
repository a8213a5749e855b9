import { describe, expect, it } from 'vitest';
import { compressionLevel, LOCAL_STORE_COMPRESSION_LEVEL } from './compression-level.js';

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

  it('a store\'s own level applies when the variable is unset or empty, never over a level that was asked for', () => {
    const warnings: string[] = [];
    expect(compressionLevel(undefined, (m) => warnings.push(m), LOCAL_STORE_COMPRESSION_LEVEL)).toBe(0);
    expect(compressionLevel('', (m) => warnings.push(m), LOCAL_STORE_COMPRESSION_LEVEL)).toBe(0);
    expect(compressionLevel('default', (m) => warnings.push(m), LOCAL_STORE_COMPRESSION_LEVEL)).toBe(5);
    expect(compressionLevel('slowest', (m) => warnings.push(m), LOCAL_STORE_COMPRESSION_LEVEL)).toBe(9);
    expect(warnings).toEqual([]);
  });
});
