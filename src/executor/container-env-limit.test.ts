import { describe, expect, it } from 'vitest';
import { JobFailure } from '../job/job-result.js';
import { checkContainerEnv, MAX_ENV_STRING_BYTES } from './container-env-limit.js';

describe('checkContainerEnv', () => {
  it('takes what Linux takes: one KEY=VALUE string up to 128 KiB with its NUL', () => {
    expect(() => checkContainerEnv([`K=${'x'.repeat(MAX_ENV_STRING_BYTES - 3)}`], 'build container')).not.toThrow();
    expect(() => checkContainerEnv([`K=${'x'.repeat(MAX_ENV_STRING_BYTES - 2)}`], 'build container')).toThrow(JobFailure);
  });

  it('bounds the whole environment too, and names the container', () => {
    const many = Array.from({ length: 40 }, (_, i) => `V${i}=${'x'.repeat(64 * 1024)}`);
    let error: unknown;
    try {
      checkContainerEnv(many, 'service "postgres:16"');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JobFailure);
    expect((error as JobFailure).reason).toBe('script_failure');
    expect((error as JobFailure).message).toMatch(/^the service "postgres:16" cannot start: its public variables take \d+ bytes, more than the \d+ bytes Linux takes for a whole environment/);
  });
});
