/**
 * Clocks for tests of the GitLab layer (src/gitlab/clock.ts):
 * - InstantClock: sleeps return at once (after one macrotask) and only advance virtual time;
 *   every requested wait is recorded, so retry and backoff rules can be asserted exactly.
 * - ScaledClock: sleeps really wait `ms / factor`, virtual time advances by `ms`; for upload
 *   loops that must interleave with real HTTP, at a fraction of the real duration.
 */
import { setImmediate as tick, setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../src/gitlab/clock.js';

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError' });
}

export class InstantClock implements Clock {
  readonly sleeps: number[] = [];
  private t: number;

  constructor(start = Date.now()) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    this.sleeps.push(ms);
    this.t += ms;
    await tick();
    if (signal?.aborted) throw abortError(signal);
  }
}

export class ScaledClock implements Clock {
  readonly sleeps: number[] = [];
  private readonly realStart = Date.now();
  private skew = 0;

  constructor(private readonly factor: number) {}

  now(): number {
    return this.realStart + (Date.now() - this.realStart) * this.factor + this.skew;
  }

  /** Moves virtual time forward without waiting. */
  advance(ms: number): void {
    this.skew += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    await delay(Math.max(1, ms / this.factor), undefined, signal ? { signal } : {}).catch((err: unknown) => {
      throw signal?.aborted ? abortError(signal) : err;
    });
  }
}
