/**
 * The `[runners.cache]` rules that need more than one key. gitlab-runner does not fail on a cache
 * it cannot use: it logs and falls back to the local cache (cache/cache.go getCreateAdapter), so
 * these are warnings (also a Type it has no adapter for, such as gcsv2 for berth), except an AuthenticationType that is neither access-key nor iam, which names
 * the key (gitlab-runner cache/cacheconfig/cacheconfig.go AuthType).
 */
import type { RunnerConfig } from './berth-config.js';
import { addWarning, configError, type IssueSink } from './config-issues.js';

const AUTH_TYPES = ['access-key', 'iam'];
/** cacheconfig.go EncryptionType: case-insensitive, anything else is a warning and no encryption. */
const SSE_TYPES = ['S3', 'AES256', 'KMS', 'AWS:KMS', 'DSSE-KMS', 'AWS:KMS:DSSE'];

export function checkCacheConfig(runner: RunnerConfig, index: number, sink: IssueSink): void {
  const cache = runner.cache;
  const at = (...keys: string[]) => ['runners', index, 'cache', ...keys];
  if (cache.type && cache.type !== 's3') {
    addWarning(sink, at('Type'), `[[runners]][${index}].cache.Type: ${JSON.stringify(cache.type)} is not supported by berth yet; the cache stays local`);
    return;
  }
  if (cache.type !== 's3') return;
  const s3 = cache.s3;
  const auth = s3.authenticationType.toLowerCase();
  if (auth && !AUTH_TYPES.includes(auth)) {
    throw configError(sink, at('s3', 'AuthenticationType'), `${JSON.stringify(s3.authenticationType)} is not one of ${AUTH_TYPES.join(', ')}`);
  }
  if (!s3.bucketName) {
    addWarning(sink, at('s3', 'BucketName'), `[[runners]][${index}].cache.s3.BucketName is not set: set it to use the S3 cache; the cache stays local`);
  }
  if (s3.serverSideEncryption && !SSE_TYPES.includes(s3.serverSideEncryption.toUpperCase())) {
    addWarning(
      sink,
      at('s3', 'ServerSideEncryption'),
      `[[runners]][${index}].cache.s3.ServerSideEncryption: ${JSON.stringify(s3.serverSideEncryption)} is not one of S3, KMS, DSSE-KMS; objects are not encrypted`,
    );
  }
}
