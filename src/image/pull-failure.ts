/**
 * Classifies an image pull error by its text into the failure reason gitlab-runner gives it
 * (gitlab-runner common/classify_image_pull_failure.go, ClassifyImagePullFailure):
 * network trouble between the engine and the registry is `runner_external_dependency_failure`
 * (and only that is retried), a missing image or refused credentials is
 * `runner_configuration_error`, anything else is `image_pull_failure`. A bare "context deadline
 * exceeded" is deliberately not network trouble: it is also what the job's own timeout says.
 */
export type PullFailureReason = 'runner_external_dependency_failure' | 'runner_configuration_error' | 'image_pull_failure';

const NETWORK = [
  'dial tcp',
  'connection refused',
  'no such host',
  'i/o timeout',
  'tls handshake',
  'client.timeout exceeded',
  'request canceled',
  'connection reset',
];

const CONFIGURATION = [
  'not found',
  'manifest unknown',
  'pull access denied',
  'access to the resource is denied',
  'no basic auth credentials',
  'repository does not exist or may require',
  'unauthorized',
  'authentication required',
];

export function classifyPullFailure(message: string): PullFailureReason {
  const lower = message.toLowerCase();
  if (NETWORK.some((t) => lower.includes(t))) return 'runner_external_dependency_failure';
  if (CONFIGURATION.some((t) => lower.includes(t))) return 'runner_configuration_error';
  return 'image_pull_failure';
}

/** gitlab-runner retries a pull (up to 3 times per policy) only for network trouble. */
export function isTransientPullFailure(reason: PullFailureReason): boolean {
  return reason === 'runner_external_dependency_failure';
}
