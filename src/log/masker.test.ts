import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from './byte-writer.js';
import { createMaskingFilter, maskPhrasesForJob, maskText, PhraseMasker } from './masker.js';
import { plainVariable } from '../job/job-spec.js';

/** Writes `parts` one write each through a fresh filter, returns what came out. */
function through(parts: (string | Buffer)[], phrases: string[], tokenPrefixes: string[] = []): string {
  const out = new MemoryByteWriter();
  const w = createMaskingFilter({ phrases, tokenPrefixes })(out);
  for (const p of parts) w.write(typeof p === 'string' ? Buffer.from(p) : p);
  w.end();
  expect(out.ended).toBe(true);
  return out.text;
}

describe('phrase masking', () => {
  // gitlab-runner masker_test.go style: "|" marks a write boundary.
  const cases: [input: string, phrases: string[], expected: string][] = [
    ['secret', ['secret'], '[MASKED]'],
    ['secret|s', ['secret'], '[MASKED]s'],
    ['s|ecrets', ['secret'], '[MASKED]s'],
    ['ssecrets', ['secret'], 's[MASKED]s'],
    ['sec|ret|sec|ret', ['secret'], '[MASKED][MASKED]'],
    ['secre', ['secret'], 'secre'],
    ['a sec|r', ['secret'], 'a secr'],
    ['this is the en| foobar', ['the end', 'foo'], 'this is the en [MASKED]bar'],
    ['prefix-secret-suffix', ['secret'], 'prefix-[MASKED]-suffix'],
    ['secretx secret', ['secret', 'secretx'], '[MASKED] [MASKED]'],
    ['abcd', ['ab', 'bcd'], '[MASKED]'],
    ['aaa', ['aa'], '[MASKED]'],
    ['aab|aab', ['aab'], '[MASKED][MASKED]'],
    ['aaab', ['aab'], 'a[MASKED]'],
    ['x  secret  y', ['  secret  '], 'x  [MASKED]  y'],
    ['no phrases here', [''], 'no phrases here'],
  ];
  for (const [input, phrases, expected] of cases) {
    it(`${JSON.stringify(input)} with ${JSON.stringify(phrases)}`, () => {
      expect(through(input.split('|'), phrases)).toBe(expected);
    });
  }

  it('masks a 16,000-byte secret split in the middle', () => {
    const secret = 'k'.repeat(8000) + 'Q'.repeat(8000);
    expect(through(['start ', secret.slice(0, 8000), secret.slice(8000), ' end'], [secret])).toBe('start [MASKED] end');
  });

  it('masks multi-byte secrets split inside a character', () => {
    const secret = Buffer.from('pässwörd€', 'utf8');
    expect(through([Buffer.from('>'), secret.subarray(0, 2), secret.subarray(2, 9), secret.subarray(9), Buffer.from('<')], ['pässwörd€'])).toBe(
      '>[MASKED]<',
    );
  });

  it('holds back only what could still become a secret', () => {
    const out = new MemoryByteWriter();
    const w = new PhraseMasker(out, ['secret']);
    w.write(Buffer.from('hello sec'));
    expect(out.text).toBe('hello ');
    w.write(Buffer.from('tion'));
    expect(out.text).toBe('hello section');
  });
});

describe('createMaskingFilter: the whole chain', () => {
  it('masks GitLab tokens by prefix, glpat- always', () => {
    expect(through(['token glpat-', 'AbC_12.x=y-z and more'], [])).toBe('token glpat-[MASKED] and more');
    expect(through(['glrt-t1_abc glcbt-123 _gitlab_session=deadbeef;'], [])).toBe('glrt-[MASKED] glcbt-[MASKED] _gitlab_session=[MASKED];');
    expect(through(['custom mytok_abc'], [], ['mytok_'])).toBe('custom mytok_[MASKED]');
  });

  it('masks URL parameters', () => {
    expect(through(['curl "https://h/api?private_token=', 'abc&x=1"'], [])).toBe('curl "https://h/api?private_token=[MASKED]&x=1"');
    expect(through(['https://s3/o?X-Amz-Signature=abc123 done'], [])).toBe('https://s3/o?X-Amz-Signature=[MASKED] done');
  });

  it('applies phrases before URL and token rules (gitlab-runner order)', () => {
    expect(through(['glpat-SECRETVALUE'], ['SECRETVALUE'])).toBe('glpat-[MASKED]');
    expect(through(['?private_token=SECRETVALUE&'], ['SECRETVALUE'])).toBe('?private_token=[MASKED]&');
  });

  it('maskText masks one-shot strings (error messages)', () => {
    expect(maskText('pull failed for registry/s3cr3t-image:1 (glpat-abc)', ['s3cr3t-image'])).toBe('pull failed for registry/[MASKED]:1 (glpat-[MASKED])');
  });

  it('maskPhrasesForJob takes masked values and the job token', () => {
    const vars = [plainVariable('A', 'visible'), { ...plainVariable('B', 'hidden-value'), masked: true }];
    expect(maskPhrasesForJob({ variables: vars, token: 'glcbt-xyz' })).toEqual(['hidden-value', 'glcbt-xyz']);
    expect(maskPhrasesForJob({ variables: vars, token: '' })).toEqual(['hidden-value']);
  });
});
