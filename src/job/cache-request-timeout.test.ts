import { describe, expect, it } from 'vitest';
import { cacheRequestTimeout } from './cache-request-timeout.js';

const vars = (value: string) => [{ key: 'CACHE_REQUEST_TIMEOUT', value, public: true, masked: false, raw: true, file: false }];

describe('cacheRequestTimeout (CACHE_REQUEST_TIMEOUT, gitlab-runner build_settings.go)', () => {
  it('is 10 minutes unless set; whole minutes when set', () => {
    expect(cacheRequestTimeout([])).toEqual({ ms: 600_000, problem: null });
    expect(cacheRequestTimeout(vars(''))).toEqual({ ms: 600_000, problem: null });
    expect(cacheRequestTimeout(vars('3'))).toEqual({ ms: 180_000, problem: null });
    expect(cacheRequestTimeout(vars('+2'))).toEqual({ ms: 120_000, problem: null });
  });

  it('bounds nothing at 0 or below (Go http.Client Timeout), within the longest timer Node keeps', () => {
    expect(cacheRequestTimeout(vars('0')).ms).toBe(2 ** 31 - 1);
    expect(cacheRequestTimeout(vars('-5')).ms).toBe(2 ** 31 - 1);
    expect(cacheRequestTimeout(vars('100000')).ms).toBe(2 ** 31 - 1);
  });

  it('falls back to 10 with gitlab-runner\'s settings error for what ParseInt refuses', () => {
    for (const bad of ['1.5', '10m', ' 3', '99999999999999999999']) {
      expect(cacheRequestTimeout(vars(bad))).toEqual({ ms: 600_000, problem: `CACHE_REQUEST_TIMEOUT: expected int got ${JSON.stringify(bad)}, using default value: 10` });
    }
  });
});
