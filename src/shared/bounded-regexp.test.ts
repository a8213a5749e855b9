import { describe, expect, it } from 'vitest';
import { RegExpTimeoutError, runWithin, testWithin } from './bounded-regexp.js';

describe('testWithin / runWithin', () => {
  it('answers as RegExp#test does', () => {
    expect(testWithin(/^release\/\d+$/, 'release/12')).toBe(true);
    expect(testWithin(/^release\/\d+$/, 'main')).toBe(false);
    expect(testWithin(/a/i, 'A')).toBe(true);
    // Asked again: the same answers (kept).
    expect(testWithin(/^release\/\d+$/, 'release/12')).toBe(true);
    expect(testWithin(/^release\/\d+$/, 'main')).toBe(false);
  });

  it('stops a match that backtracks for ever at the limit, naming the pattern and the text length', () => {
    const started = Date.now();
    let caught: unknown;
    try {
      testWithin(/^(a+)+$/, `${'a'.repeat(40)}!`, 200);
    } catch (err) {
      caught = err;
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(caught).toBeInstanceOf(RegExpTimeoutError);
    expect((caught as Error).message).toMatch(/^the regular expression \/\^\(a\+\)\+\$\/ took longer than 0.2 s on a text of 41 characters and was stopped/);
    // The shared context is usable afterwards, and holds nothing of the stopped call.
    expect(runWithin('typeof re + typeof text', {}, 200, 'x', 0)).toBe('undefinedundefined');
    expect(testWithin(/^a+$/, 'aaa', 200)).toBe(true);
  });

  it('throws the script\'s own errors as they are', () => {
    expect(() => runWithin('null.x', {}, 200, 'x', 0)).toThrow(/Cannot read properties of null/);
  });
});
