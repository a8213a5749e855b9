import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from './byte-writer.js';
import { UrlMasker } from './url-masker.js';

function mask(parts: string[]): string {
  const out = new MemoryByteWriter();
  const w = new UrlMasker(out);
  for (const p of parts) w.write(Buffer.from(p));
  w.end();
  return out.text;
}

describe('UrlMasker', () => {
  it('masks every sensitive parameter, any case, and leaves others', () => {
    expect(mask(['/p?private_token=a1&authenticity_token=b2&RSS_TOKEN=c3&page=4'])).toBe(
      '/p?private_token=[MASKED]&authenticity_token=[MASKED]&RSS_TOKEN=[MASKED]&page=4',
    );
    expect(mask(['?X-Amz-Credential=AK/2026/eu/s3/aws4_request&X-Amz-Security-Token=zz&X-Amz-Signature=ff x'])).toBe(
      '?X-Amz-Credential=[MASKED]&X-Amz-Security-Token=[MASKED]&X-Amz-Signature=[MASKED] x',
    );
  });

  it('ends a value at whitespace, control characters and separators', () => {
    expect(mask(['?private_token=abc\ndone'])).toBe('?private_token=[MASKED]\ndone');
    expect(mask(['?private_token=abc\x1b[0m'])).toBe('?private_token=[MASKED]\x1b[0m');
    expect(mask(['?private_token=abc?private_token=def'])).toBe('?private_token=[MASKED]?private_token=[MASKED]');
  });

  it('works across every split', () => {
    const text = 'GET /x?private_token=abcdef&y=1 ok';
    for (let i = 1; i < text.length; i++) {
      for (let j = i; j < text.length; j++) {
        expect(mask([text.slice(0, i), text.slice(i, j), text.slice(j)]), `${i},${j}`).toBe('GET /x?private_token=[MASKED]&y=1 ok');
      }
    }
  });

  it('masks a value running to the end of the stream and leaves lookalikes', () => {
    expect(mask(['?private_token=', 'abc'])).toBe('?private_token=[MASKED]');
    expect(mask(['private_token=abc ?my_private_token=abc'])).toBe('private_token=abc ?my_private_token=abc');
  });
});
