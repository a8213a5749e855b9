import { describe, expect, it } from 'vitest';
import type { JobResult } from '../job/job-result.js';
import { shouldRetry } from './auto-retry.js';

const failed = (failureReason: JobResult['failureReason'], exitCode: number | null = 1): JobResult => ({ state: 'failed', failureReason, exitCode, durationMs: 1, message: null });

describe('shouldRetry (GitLab auto_retry.rb)', () => {
  it('retries up to max, for any reason with when: always', () => {
    const policy = { max: 2, when: ['always'], exitCodes: [] };
    expect(shouldRetry(policy, failed('script_failure'), 0)).toBe(true);
    expect(shouldRetry(policy, failed('job_execution_timeout', null), 1)).toBe(true);
    expect(shouldRetry(policy, failed('script_failure'), 2)).toBe(false);
    expect(shouldRetry({ ...policy, max: 0 }, failed('script_failure'), 0)).toBe(false);
  });

  it('never retries a success or a canceled job', () => {
    const policy = { max: 2, when: ['always'], exitCodes: [] };
    expect(shouldRetry(policy, { state: 'success', failureReason: null, exitCode: 0, durationMs: 1, message: null }, 0)).toBe(false);
    expect(shouldRetry(policy, { state: 'canceled', failureReason: 'job_canceled', exitCode: null, durationMs: 1, message: null }, 0)).toBe(false);
  });

  it('retries for the reasons in when, or the exit codes in exit_codes', () => {
    const policy = { max: 1, when: ['runner_system_failure'], exitCodes: [137] };
    expect(shouldRetry(policy, failed('runner_system_failure', null), 0)).toBe(true);
    expect(shouldRetry(policy, failed('script_failure', 137), 0)).toBe(true);
    expect(shouldRetry(policy, failed('script_failure', 1), 0)).toBe(false);
    expect(shouldRetry({ max: 1, when: [], exitCodes: [137] }, failed('script_failure', 1), 0)).toBe(false);
  });
});
