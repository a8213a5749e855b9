/**
 * Classifies an image pull error by its text, as gitlab-runner's ClassifyImagePullFailure does:
 * network trouble is transient (retried), a missing image or refused credentials is a
 * configuration problem (never retried), anything else is a pull failure.
 */
export type PullFailureKind = 'transient' | 'configuration' | 'pull';

const TRANSIENT = [
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

export function classifyPullFailure(message: string): PullFailureKind {
  const lower = message.toLowerCase();
  if (TRANSIENT.some((t) => lower.includes(t))) return 'transient';
  if (CONFIGURATION.some((t) => lower.includes(t))) return 'configuration';
  return 'pull';
}
