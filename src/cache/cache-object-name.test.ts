import { describe, expect, it } from 'vitest';
import { cacheObjectName } from './cache-object-name.js';

const input = { path: '', shared: false, shortToken: 'abcd1234e', projectId: 42, key: 'default-protected' };

describe('cacheObjectName (gitlab-runner cache/cache.go)', () => {
  it('namespaces by runner unless Shared', () => {
    expect(cacheObjectName(input)).toBe('runner/abcd1234e/project/42/default-protected');
    expect(cacheObjectName({ ...input, shared: true })).toBe('project/42/default-protected');
  });

  it('prefixes Path, joined and cleaned like Go path.Join', () => {
    expect(cacheObjectName({ ...input, path: 'ci/cache/' })).toBe('ci/cache/runner/abcd1234e/project/42/default-protected');
    expect(cacheObjectName({ ...input, path: 'ci//cache', shared: true, projectId: 250833, key: 'unit test 1/8-v13-12-0-2' })).toBe(
      'ci/cache/project/250833/unit test 1/8-v13-12-0-2',
    );
  });

  it('gives no name for an empty key or one that leaves the project folder', () => {
    expect(cacheObjectName({ ...input, key: '' })).toBeNull();
    expect(cacheObjectName({ ...input, key: '../43/x' })).toBeNull();
    expect(cacheObjectName({ ...input, key: '.' })).toBeNull();
  });

  it('shards a hashed key (FF_HASH_CACHE_KEYS) by its first two characters', () => {
    const sha = '73445e6334b99fb3506bd2949e83a3c02b7cdb648e6264d21388c763d253c5da';
    expect(cacheObjectName({ ...input, key: sha, sharded: true })).toBe(`runner/abcd1234e/project/42/73/${sha}`);
    expect(cacheObjectName({ ...input, shared: true, key: sha, sharded: true })).toBe(`project/42/73/${sha}`);
    expect(cacheObjectName({ ...input, key: 'a', sharded: true })).toBeNull();
  });
});
