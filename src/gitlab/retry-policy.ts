/**
 * gitlab-runner's built-in API retry (network/retry_requester.go): which statuses are retried
 * and how long to wait. Transport errors (refused, reset, timeout) are not retried here.
 *
 * - Retried: 408, 429, 500, 502, 503, 504 and any status >= 512 (not 501, 505–511).
 * - At most 5 attempts in all.
 * - Wait: `RateLimit-ResetTime` (an RFC 1123 date) when it is in the future, else `Retry-After`
 *   (seconds > 0), else exponential backoff from 100 ms, factor 2, capped at 60 s, with jitter.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { exponentialBackoff } from '../shared/retry.js';
import { header } from './http-transport.js';

export const API_RETRY_ATTEMPTS = 5;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 60_000;
/** A header asking for more than an hour is not honoured beyond an hour (our bound; GR has none). */
const MAX_HEADER_WAIT_MS = 3_600_000;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504 || status >= 512;
}

/** Milliseconds to wait before attempt `attempt + 1`. */
export function retryWaitMs(headers: IncomingHttpHeaders, attempt: number, nowMs: number, random: () => number = Math.random): number {
  const resetTime = header(headers, 'ratelimit-resettime');
  if (resetTime) {
    const wait = Date.parse(resetTime) - nowMs;
    if (wait > 0) return Math.min(wait, MAX_HEADER_WAIT_MS);
  }
  const retryAfter = header(headers, 'retry-after')?.trim();
  if (retryAfter && /^\d+$/.test(retryAfter) && Number(retryAfter) > 0) {
    return Math.min(Number(retryAfter) * 1000, MAX_HEADER_WAIT_MS);
  }
  return exponentialBackoff(BACKOFF_MIN_MS, BACKOFF_MAX_MS, 2, random)(attempt);
}
