/**
 * Whether GitLab would run a failed job again (`retry:`), as its server decides it
 * (lib/gitlab/ci/build/auto_retry.rb): `retry:max` times at most, when the failure reason is in
 * `retry:when` (`always` by default, none by default when `retry:exit_codes` is given) or the
 * exit code is in `retry:exit_codes`. A canceled job is never retried, nor a job failed for a
 * reason GitLab never retries.
 */
import type { JobResult } from '../job/job-result.js';
import type { RetryPolicy } from '../pipeline/index.js';

/** GitLab's RETRY_OVERRIDES: reasons that are never retried, whatever `retry:` says. */
const NEVER_RETRIED = new Set(['ci_quota_exceeded', 'no_matching_runner', 'missing_dependency_failure', 'forward_deployment_failure', 'environment_creation_failure']);

/** True when the job that ended with `result`, already retried `retries` times, runs again. */
export function shouldRetry(policy: RetryPolicy, result: JobResult, retries: number): boolean {
  if (result.state !== 'failed') return false;
  const reason = result.failureReason ?? 'unknown_failure';
  if (NEVER_RETRIED.has(reason)) return false;
  const byReason = policy.when.includes('always') || policy.when.includes(reason);
  const byExitCode = result.exitCode !== null && policy.exitCodes.includes(result.exitCode);
  return (byReason || byExitCode) && policy.max > retries;
}
