import { describe, expect, it } from 'vitest';
import { shortToken } from './short-token.js';

describe('shortToken', () => {
  // gitlab-runner's own cases (helpers/shorten_token_test.go).
  it.each([
    ['short', 'short'],
    ['veryverylongtoken', 'veryveryl'],
    ['t1_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['t2_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['t3_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['t4_t9Wkyj-HGRkqQ-VWTGAr', 't4_t9Wkyj'],
    ['glrt-t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glrt-t1_t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glrtr-t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glrtr-t1_t9Wkyj-HGRkqQ-VWTGAr', 't1_t9Wkyj'],
    ['glcbt-t9Wkyj-HGRkqQ-VWTGAr', 't9Wkyj-HG'],
    ['glcbt-t2_t9Wkyj-HGRkqQ-VWTGAr', 't2_t9Wkyj'],
    ['GR1348941Z196cJVywzZpx_Ki_Cn2', 'Z196cJVyw'],
    ['GR134894-196cJVywzZpx_Ki_Cn2', 'GR134894-'],
  ])('%s -> %s', (token, short) => {
    expect(shortToken(token)).toBe(short);
  });

  it('strips the prefixes one after the other, each once, and never returns more than 9 characters', () => {
    expect(shortToken('glrt-glcbt-GR1348941abcdefghijk')).toBe('abcdefghi');
    expect(shortToken('glcbt-glcbt-abcdefghijk')).toBe('glcbt-abc');
    expect(shortToken('')).toBe('');
    expect(shortToken('b39c4771b33414c6ebe857ad640b8d')).toBe('b39c4771b');
  });
});
