import { describe, expect, it } from 'vitest';
import { BerthError } from '../shared/errors.js';
import { type FailureReason, JobFailure, mapFailureReason } from './job-result.js';

describe('mapFailureReason (gitlab-runner common/failure_reason_mapper.go, network.go)', () => {
  it.each<[FailureReason, string[], string]>([
    // always accepted by GitLab
    ['script_failure', [], 'script_failure'],
    ['runner_system_failure', [], 'runner_system_failure'],
    ['job_execution_timeout', [], 'job_execution_timeout'],
    // sent as they are when GitLab lists them
    ['image_pull_failure', ['image_pull_failure'], 'image_pull_failure'],
    ['runner_external_dependency_failure', ['runner_external_dependency_failure'], 'runner_external_dependency_failure'],
    ['runner_configuration_error', ['runner_configuration_error'], 'runner_configuration_error'],
    // the compatibility fallbacks for an older GitLab
    ['image_pull_failure', [], 'runner_system_failure'],
    ['runner_external_dependency_failure', ['image_pull_failure'], 'runner_system_failure'],
    ['runner_configuration_error', [], 'script_failure'],
    // anything else
    ['runner_interrupted', [], 'unknown_failure'],
    ['job_canceled', ['script_failure'], 'unknown_failure'],
  ])('%s with GitLab supporting %j → %s', (reason, supported, sent) => {
    expect(mapFailureReason(reason, supported)).toBe(sent);
  });
});

describe('JobFailure', () => {
  it('is a BerthError with the job_failure code, its reason, exit code and cause', () => {
    const cause = new Error('engine said no');
    const f = new JobFailure('script_failure', 'exit code 3', { exitCode: 3, cause });
    expect(f).toBeInstanceOf(BerthError);
    expect(f).toMatchObject({ name: 'JobFailure', code: 'job_failure', reason: 'script_failure', exitCode: 3, cause, message: 'exit code 3' });
  });
});
