import { describe, expect, it } from 'vitest';
import { SecretScrubber } from './secret-scrubber.js';

describe('SecretScrubber', () => {
  it('removes secrets and their encoded forms, longest first', () => {
    const s = new SecretScrubber(['p@ss"word/1', 'p@ss']);
    const text = `a p@ss"word/1 b ${JSON.stringify('p@ss"word/1')} c ${encodeURIComponent('p@ss"word/1')} d ${Buffer.from('p@ss"word/1').toString('base64')}`;
    const out = s.scrub(text);
    expect(out).not.toContain('p@ss');
    expect(out).not.toContain(Buffer.from('p@ss"word/1').toString('base64'));
    expect(out).toBe('a [MASKED] b "[MASKED]" c [MASKED] d [MASKED]');
  });

  it('leaves very short values alone and scrubs error messages', () => {
    const s = new SecretScrubber(['', 'ab', 'secret-value']);
    expect(s.scrub('ab cd')).toBe('ab cd');
    expect(s.scrubError(new Error('denied for secret-value'))).toBe('denied for [MASKED]');
  });
});
