import { sleep } from './abort.js';

export interface RetryOptions {
  /** Total attempts, including the first. */
  attempts: number;
  /** Delay before attempt n+1 (n starts at 1). */
  delayMs: (attempt: number) => number;
  /** Whether this error is worth another attempt. */
  retryable: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log "retrying in ...". */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Runs `fn` until it succeeds, the error is not retryable, or the attempts are used up. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const wait = opts.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || !opts.retryable(err) || opts.signal?.aborted) throw err;
      const delay = opts.delayMs(attempt);
      opts.onRetry?.(err, attempt, delay);
      await wait(delay, opts.signal);
    }
  }
}

/** Exponential backoff with full jitter between min and the capped exponential value. */
export function exponentialBackoff(
  baseMs: number,
  maxMs: number,
  factor = 2,
  random: () => number = Math.random,
): (attempt: number) => number {
  return (attempt) => {
    const ceiling = Math.min(maxMs, baseMs * factor ** (attempt - 1));
    return Math.round(baseMs + (ceiling - baseMs) * random());
  };
}
