import { describe, expect, it } from 'vitest';
import { longestMatch, lookupCandidates, mismatchReason, normalizeRegistryKey } from './registry-key.js';

describe('normalizeRegistryKey (gitlab-runner convertToRegistryPath)', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['HTTPS://Index.Docker.IO/v1/', 'docker.io'],
    ['http://registry.test:5000/v2/', 'registry.test:5000'],
    ['https://Registry.Test/ns/app', 'registry.test'],
    ['registry.test:5000', 'registry.test:5000'],
    ['Registry.Test:5000/NS/', 'registry.test:5000/NS'],
    ['registry.local/ns', 'registry.local/ns'],
    ['registry.local/ns/app:1.2', 'registry.local/ns/app'],
    ['index.docker.io', 'index.docker.io'],
    ['registry-1.docker.io', 'registry-1.docker.io'],
    ['docker.io', 'docker.io'],
    ['127.0.0.1:5000/', '127.0.0.1:5000'],
  ])('%s → %s', (key, expected) => {
    expect(normalizeRegistryKey(key)).toBe(expected);
  });
});

describe('longest-path matching', () => {
  it('lists the path and each parent, longest first', () => {
    expect(lookupCandidates('reg.test:5000/a/b/app')).toEqual(['reg.test:5000/a/b/app', 'reg.test:5000/a/b', 'reg.test:5000/a', 'reg.test:5000']);
  });

  it('prefers the longest key that covers the image', () => {
    const keys = ['reg.test:5000', 'reg.test:5000/team', 'reg.test:5000/team/app/extra'];
    expect(longestMatch('reg.test:5000/team/app', keys)).toBe('reg.test:5000/team');
    expect(longestMatch('reg.test:5000/other/app', keys)).toBe('reg.test:5000');
  });

  it('matches whole segments only, and the port must match', () => {
    expect(longestMatch('reg.test:5000/teams/app', ['reg.test:5000/team'])).toBeNull();
    expect(longestMatch('reg.test:5000/app', ['reg.test', 'reg.test:5001'])).toBeNull();
    expect(longestMatch('reg.test/app', ['reg.test:443'])).toBeNull();
    expect(longestMatch('docker.io/ruby', ['index.docker.io'])).toBeNull();
    expect(longestMatch('docker.io/ruby', ['docker.io'])).toBe('docker.io');
  });

  it('explains a mismatch', () => {
    expect(mismatchReason('reg.test:5000/app', 'reg.test:5001')).toMatch(/port differs/);
    expect(mismatchReason('reg.test:5000/app', 'reg.test')).toMatch(/port differs/);
    expect(mismatchReason('reg.test:5000/app', 'other.test:5000')).toMatch(/other registry/);
    expect(mismatchReason('reg.test:5000/app', 'reg.test:5000/ns')).toMatch(/not a parent/);
    expect(mismatchReason('reg.test:5000/app', 'reg.test:5000')).toBeNull();
  });
});
