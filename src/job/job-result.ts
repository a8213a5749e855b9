/** The outcome of one job, in GitLab's vocabulary. */
import { BerthError } from '../shared/errors.js';

/** GitLab's failure reasons, exact spelling (gitlab-runner common/network.go). */
export type FailureReason =
  | 'script_failure'
  | 'runner_system_failure'
  | 'job_execution_timeout'
  | 'image_pull_failure'
  | 'unknown_failure'
  | 'runner_configuration_error'
  | 'runner_external_dependency_failure'
  | 'runner_interrupted'
  | 'job_canceled';

export type JobState = 'success' | 'failed' | 'canceled';

export interface JobResult {
  state: JobState;
  failureReason: FailureReason | null;
  /** Exit code of the script, when a script ran to an exit. */
  exitCode: number | null;
  durationMs: number;
  /** The message printed as `ERROR: Job failed: <message>`. */
  message: string | null;
}

/**
 * A failure that ends a job with a known reason. Thrown by the executor and its managers;
 * classified once, at the edge, into a JobResult.
 */
export class JobFailure extends BerthError {
  readonly reason: FailureReason;
  readonly exitCode: number | null;
  /**
   * A failure of the executor's prepare that gitlab-runner meets with an error that is no
   * BuildError (a service that could not be started): the prepare is tried again (runJob).
   */
  readonly preparationRetryable: boolean;

  constructor(reason: FailureReason, message: string, options?: { cause?: unknown; exitCode?: number; preparationRetryable?: boolean }) {
    super('job_failure', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.exitCode = options?.exitCode ?? null;
    this.preparationRetryable = options?.preparationRetryable ?? false;
  }
}

/** gitlab-runner's mapping of a reason onto what the GitLab server says it supports. */
export function mapFailureReason(reason: FailureReason, supported: readonly string[]): string {
  const always: FailureReason[] = ['script_failure', 'runner_system_failure', 'job_execution_timeout'];
  if (always.includes(reason) || supported.includes(reason)) return reason;
  const fallbacks: Partial<Record<FailureReason, FailureReason>> = {
    image_pull_failure: 'runner_system_failure',
    runner_configuration_error: 'script_failure',
    runner_external_dependency_failure: 'runner_system_failure',
  };
  return fallbacks[reason] ?? 'unknown_failure';
}
