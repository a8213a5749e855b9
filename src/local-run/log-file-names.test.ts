import { describe, expect, it } from 'vitest';
import { logFileNames } from './log-file-names.js';

describe('logFileNames', () => {
  it('keeps clean names and gives every job its own file', () => {
    const names = logFileNames(['a_b', 'a b', 'a/b', 'a:b', 'build', 'Build']);
    expect(names.get('a_b')).toBe('a_b.log');
    expect(names.get('build')).toBe('build.log');
    expect(names.get('a b')).toMatch(/^a_b-[0-9a-f]{8}\.log$/);
    expect(names.get('a/b')).toMatch(/^a_b-[0-9a-f]{8}\.log$/);
    const files = [...names.values()].map((f) => f.toLowerCase());
    expect(new Set(files).size).toBe(6);
  });

  it('is stable across runs and survives a job named like another one\'s hashed file', () => {
    const first = logFileNames(['a b']).get('a b')!;
    const stem = first.replace(/\.log$/, '');
    const names = logFileNames([stem, 'a b']);
    expect(names.get(stem)).toBe(first);
    expect(names.get('a b')).toBe(`${stem}-2.log`);
    expect(logFileNames(['a b']).get('a b')).toBe(first);
  });

  it('keeps names short and never . or ..', () => {
    const names = logFileNames(['x'.repeat(300), '..', '.']);
    expect(names.get('x'.repeat(300))!.length).toBeLessThan(120);
    expect(names.get('..')).toMatch(/^\.\.-[0-9a-f]{8}\.log$/);
    expect(names.get('.')).toMatch(/^\.-[0-9a-f]{8}\.log$/);
  });
});
