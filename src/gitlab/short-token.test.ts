import { describe, expect, it } from 'vitest';
import { shortToken } from './short-token.js';

describe('shortToken', () => {
  it('keeps 9 characters after a known prefix', () => {
    expect(shortToken('glrt-abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('glrt-t1_abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('t1_abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('glrtr-abcdefghijklmnop')).toBe('abcdefghi');
    expect(shortToken('glcbt-abcdefghijklmnop')).toBe('abcdefghi');
  });

  it('keeps 17 characters of a GR rotation token and 8 of anything else', () => {
    expect(shortToken('GR1348941abcdefghijklmnop')).toBe('GR1348941abcdefgh');
    expect(shortToken('b39c4771b33414c6ebe857ad640b8d')).toBe('b39c4771');
    expect(shortToken('short')).toBe('short');
  });
});
