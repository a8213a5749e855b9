/**
 * Time for the GitLab layer, injectable so that retry and trace-upload tests run fast:
 * `now()` in milliseconds, `sleep(ms, signal)` rejecting with the signal's reason on abort.
 */
import { sleep } from '../shared/abort.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};
