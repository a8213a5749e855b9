import { afterEach, describe, expect, it } from 'vitest';
import { CommandHarness } from '../../../test/support/config/command-harness.js';
import { register } from './register.js';

let h: CommandHarness;
afterEach(() => h.cleanup());

describe('berth register --cache-*', () => {
  it('writes [runners.cache] and [runners.cache.s3] from flags and environment, never printing the secret', async () => {
    h = await CommandHarness.create({ verify: (token) => ({ id: 7, token, tokenExpiresAt: '' }) }, { CACHE_S3_SECRET_KEY: 'env-secret-key' });
    const err = await h.run(register, [
      'register', '-n', '--url', 'https://gitlab.test/', '--token', 'glrt-abcdefghijklmnop', '--name', 'ci',
      '--executor', 'docker', '--docker-image', 'alpine:3.20',
      '--cache-type', 's3', '--cache-shared', '--cache-path', 'ci',
      '--cache-s3-server-address', 'minio.test:9000', '--cache-s3-access-key', 'AKIAEXAMPLE',
      '--cache-s3-bucket-name', 'runner-cache', '--cache-s3-bucket-location', 'eu-west-1', '--cache-s3-insecure',
    ]);
    expect(err).toBeUndefined();
    expect(await h.readConfig()).toContain(`  [runners.cache]
    Type = "s3"
    Path = "ci"
    Shared = true
    [runners.cache.s3]
      ServerAddress = "minio.test:9000"
      AccessKey = "AKIAEXAMPLE"
      SecretKey = "env-secret-key"
      BucketName = "runner-cache"
      BucketLocation = "eu-west-1"
      Insecure = true
  [runners.docker]
`);
    expect(h.stdout + h.stderr).not.toContain('env-secret-key');
  });
});
