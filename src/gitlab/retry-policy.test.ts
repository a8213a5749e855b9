import { describe, expect, it } from 'vitest';
import { isRetryableStatus, retryWaitMs } from './retry-policy.js';

describe('isRetryableStatus', () => {
  it('retries 408, 429, 500, 502, 503, 504 and >= 512 only', () => {
    const retried = [408, 429, 500, 502, 503, 504, 512, 520, 599];
    const not = [200, 201, 204, 400, 401, 403, 404, 409, 412, 416, 501, 505, 507, 511];
    for (const s of retried) expect(isRetryableStatus(s), String(s)).toBe(true);
    for (const s of not) expect(isRetryableStatus(s), String(s)).toBe(false);
  });
});

describe('retryWaitMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('prefers RateLimit-ResetTime, then Retry-After', () => {
    const reset = new Date(now + 5000).toUTCString();
    expect(retryWaitMs({ 'ratelimit-resettime': reset, 'retry-after': '3' }, 1, now)).toBe(5000);
    expect(retryWaitMs({ 'retry-after': '3' }, 1, now)).toBe(3000);
  });

  it('falls back to backoff when a reset time is past or a header is unusable', () => {
    const past = new Date(now - 5000).toUTCString();
    expect(retryWaitMs({ 'ratelimit-resettime': past, 'retry-after': '2' }, 1, now)).toBe(2000);
    expect(retryWaitMs({ 'retry-after': 'soon' }, 1, now, () => 0)).toBe(100);
    expect(retryWaitMs({ 'retry-after': '0' }, 1, now, () => 0)).toBe(100);
  });

  it('backs off exponentially from 100 ms to 60 s with jitter', () => {
    expect(retryWaitMs({}, 1, now, () => 1)).toBe(100);
    expect(retryWaitMs({}, 2, now, () => 1)).toBe(200);
    expect(retryWaitMs({}, 4, now, () => 1)).toBe(800);
    expect(retryWaitMs({}, 4, now, () => 0)).toBe(100);
    expect(retryWaitMs({}, 30, now, () => 1)).toBe(60_000);
  });
});
