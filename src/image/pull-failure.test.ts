import { describe, expect, it } from 'vitest';
import { classifyPullFailure, isTransientPullFailure } from './pull-failure.js';

/** The cases of gitlab-runner's classify_image_pull_failure_test.go, plus berth's own. */
describe('classifyPullFailure: the failure reason gitlab-runner gives a pull error', () => {
  it.each([
    // network trouble between the engine and the registry: an external dependency, retried
    ['Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host', 'runner_external_dependency_failure'],
    ['Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', 'runner_external_dependency_failure'],
    ['dial tcp: lookup private.registry.local: no such host', 'runner_external_dependency_failure'],
    ['Get "https://registry.example.com/v2/": i/o timeout', 'runner_external_dependency_failure'],
    ['net/http: TLS handshake timeout', 'runner_external_dependency_failure'],
    ['Get "https://r/v2/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)', 'runner_external_dependency_failure'],
    ['Get "https://r/v2/": net/http: request canceled while waiting for connection', 'runner_external_dependency_failure'],
    ['read tcp 1.2.3.4:5->6.7.8.9:443: read: connection reset by peer', 'runner_external_dependency_failure'],
    ['write tcp 10.0.0.1:5000->1.2.3.4:443: write: connection reset by peer', 'runner_external_dependency_failure'],
    // missing image or tag, refused credentials: the job's or the runner's configuration
    ['manifest for 127.0.0.1:5000/nope:1 not found: manifest unknown: manifest unknown', 'runner_configuration_error'],
    ['manifest unknown: manifest unknown', 'runner_configuration_error'],
    ["pull access denied for app, repository does not exist or may require 'docker login'", 'runner_configuration_error'],
    ['denied: requested access to the resource is denied', 'runner_configuration_error'],
    ['Head "http://127.0.0.1:5000/v2/app/manifests/1": no basic auth credentials', 'runner_configuration_error'],
    ['repository does not exist or may require authorization', 'runner_configuration_error'],
    ['Error response from daemon: unauthorized: authentication required', 'runner_configuration_error'],
    ['Get "https://registry.example.com/v2/": 401 Unauthorized', 'runner_configuration_error'],
    // anything else
    ['Head "https://registry.gitlab.com/v2/x/manifests/1": context deadline exceeded', 'image_pull_failure'],
    ['filesystem layer verification failed for digest sha256:abc', 'image_pull_failure'],
    ['manifest verification failed for digest sha256:abc', 'image_pull_failure'],
    ['this is a test', 'image_pull_failure'],
  ])('%s → %s', (message, reason) => {
    expect(classifyPullFailure(message)).toBe(reason);
  });

  it('retries only network trouble', () => {
    expect(isTransientPullFailure('runner_external_dependency_failure')).toBe(true);
    expect(isTransientPullFailure('runner_configuration_error')).toBe(false);
    expect(isTransientPullFailure('image_pull_failure')).toBe(false);
  });
});
