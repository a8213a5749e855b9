import { describe, expect, it } from 'vitest';
import { classifyPullFailure } from './pull-failure.js';

describe('classifyPullFailure', () => {
  it.each([
    ['Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', 'transient'],
    ['Get "https://nope.test/v2/": dial tcp: lookup nope.test: no such host', 'transient'],
    ['net/http: TLS handshake timeout', 'transient'],
    ['read tcp 1.2.3.4:5->6.7.8.9:443: read: connection reset by peer', 'transient'],
    ['Get "https://r/v2/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)', 'transient'],
    ['manifest for 127.0.0.1:5000/nope:1 not found: manifest unknown: manifest unknown', 'configuration'],
    ['Head "http://127.0.0.1:5000/v2/app/manifests/1": no basic auth credentials', 'configuration'],
    ['unauthorized: authentication required', 'configuration'],
    ['pull access denied for app, repository does not exist or may require \'docker login\'', 'configuration'],
    ['filesystem layer verification failed for digest sha256:abc', 'pull'],
    ['manifest verification failed for digest sha256:abc', 'pull'],
  ])('%s → %s', (message, kind) => {
    expect(classifyPullFailure(message)).toBe(kind);
  });
});
