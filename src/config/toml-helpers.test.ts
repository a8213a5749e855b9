import { describe, expect, it } from 'vitest';
import { displayPath } from './config-issues.js';
import { toIsoDateTime } from './go-values.js';
import { formatGoDuration, parseGoDuration } from '../shared/go-duration.js';
import { TomlLineIndex } from './toml-lines.js';

describe('TomlLineIndex', () => {
  const text = [
    'concurrent = 1', // 1
    'a.b = 2', // 2
    '[[runners]]', // 3
    '  name = """', // 4
    'fake = "not a key"', // 5
    '"""', // 6
    '  [runners.docker]', // 7
    '    "quoted key" = 1', // 8
    '[[runners]]', // 9
    '  [runners."docker"]', // 10
    '    [[runners.docker.services]]', // 11
    '      name = "x"', // 12
  ].join('\n');
  const idx = new TomlLineIndex(text);

  it('finds keys in tables and array elements', () => {
    expect(idx.lineOf(['concurrent'])).toBe(1);
    expect(idx.lineOf(['a', 'b'])).toBe(2);
    expect(idx.lineOf(['runners', 0, 'name'])).toBe(4);
    expect(idx.lineOf(['runners', 0, 'docker', 'quoted key'])).toBe(8);
    expect(idx.lineOf(['runners', 1, 'docker'])).toBe(10);
    expect(idx.lineOf(['runners', 1, 'docker', 'services', 0, 'name'])).toBe(12);
  });

  it('skips multi-line strings and falls back to the parent', () => {
    expect(idx.lineOf(['runners', 0, 'fake'])).toBe(3);
    expect(idx.lineOf(['runners', 1, 'docker', 'image'])).toBe(10);
    expect(idx.lineOf(['nothing'])).toBeUndefined();
  });
});

describe('displayPath', () => {
  it('shows arrays of tables as gitlab-runner users know them', () => {
    expect(displayPath(['concurrent'])).toBe('concurrent');
    expect(displayPath(['runners', 0, 'docker', 'pull_policy'])).toBe('[[runners]][0].docker.pull_policy');
    expect(displayPath(['runners', 2, 'docker', 'services', 1, 'name'])).toBe('[[runners]][2].docker.services[1].name');
  });
});

describe('Go values', () => {
  it('parses and writes Go durations', () => {
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('90s')).toBe(90_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('5 minutes')).toBeUndefined();
    expect(parseGoDuration('10')).toBeUndefined();
    expect(formatGoDuration(3_600_000)).toBe('1h0m0s');
    expect(formatGoDuration(900_000)).toBe('15m0s');
    expect(formatGoDuration(1500)).toBe('1.5s');
    expect(formatGoDuration(0)).toBe('0s');
    for (const ms of [1, 999, 61_000, 5_400_000, 86_400_000]) expect(parseGoDuration(formatGoDuration(ms))).toBe(ms);
  });

  it('writes times without a zero fraction and maps the Go zero time to ""', () => {
    expect(toIsoDateTime(new Date('2024-01-02T03:04:05.000Z'))).toBe('2024-01-02T03:04:05Z');
    expect(toIsoDateTime(new Date('2024-01-02T03:04:05.250Z'))).toBe('2024-01-02T03:04:05.250Z');
    expect(toIsoDateTime(new Date('0001-01-01T00:00:00Z'))).toBe('');
  });
});
