import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from './byte-writer.js';
import { MAX_TOKEN_PREFIXES, TokenMasker, tokenMaskPrefixes } from './token-masker.js';

function mask(parts: string[], prefixes: string[]): string {
  const out = new MemoryByteWriter();
  const w = new TokenMasker(out, prefixes);
  for (const p of parts) w.write(Buffer.from(p));
  w.end();
  return out.text;
}

describe('TokenMasker', () => {
  it('keeps the prefix and masks the token characters after it', () => {
    expect(mask(['x glpat-abc.DEF_1=2-3 y'], ['glpat-'])).toBe('x glpat-[MASKED] y');
  });

  it('leaves a bare prefix alone', () => {
    expect(mask(['glpat- alone', ' glpat-'], ['glpat-'])).toBe('glpat- alone glpat-');
  });

  it('works across every split of prefix and token', () => {
    const text = 'a glpat-0123456789 b';
    for (let i = 1; i < text.length; i++) {
      for (let j = i; j < text.length; j++) {
        expect(mask([text.slice(0, i), text.slice(i, j), text.slice(j)], ['glpat-']), `${i},${j}`).toBe('a glpat-[MASKED] b');
      }
    }
  });

  it('masks a token that runs to the end of the stream', () => {
    expect(mask(['glpat-', 'abc'], ['glpat-'])).toBe('glpat-[MASKED]');
  });

  it('prefers the longest prefix starting at the same place', () => {
    expect(mask(['glrtr-abc glrt-def'], ['glrt-', 'glrtr-'])).toBe('glrtr-[MASKED] glrt-[MASKED]');
  });

  it('ends a token at an ANSI escape', () => {
    expect(mask(['\x1b[31mglpat-abc\x1b[0m'], ['glpat-'])).toBe('\x1b[31mglpat-[MASKED]\x1b[0m');
  });
});

describe('tokenMaskPrefixes', () => {
  it('always has glpat-, adds the defaults unless turned off, and job prefixes', () => {
    expect(tokenMaskPrefixes([], false)).toEqual(['glpat-']);
    const all = tokenMaskPrefixes(['  mytok_ ', 'glpat-', '']);
    expect(all).toContain('glpat-');
    expect(all).toContain('glrt-');
    expect(all).toContain('_gitlab_session=');
    expect(all).toContain('mytok_');
    expect(new Set(all).size).toBe(all.length);
  });

  it('keeps at most 15, shortest first (gitlab-runner order)', () => {
    const many = Array.from({ length: 10 }, (_, i) => `custom${i}_`);
    const got = tokenMaskPrefixes(many);
    expect(got).toHaveLength(MAX_TOKEN_PREFIXES);
    for (let i = 1; i < got.length; i++) expect(got[i]!.length).toBeGreaterThanOrEqual(got[i - 1]!.length);
  });
});
