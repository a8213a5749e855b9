/**
 * What the cache stores need from a runner's `[runners.cache]` (config/cache-schema.ts declares
 * the keys; the daemon passes `runner.cache` as it is). gitlab-runner cache/cacheconfig/cacheconfig.go.
 */

export interface S3CacheSettings {
  /** host[:port]; empty: AWS. */
  serverAddress: string;
  accessKey: string;
  /** A secret: never in a message or a log line. */
  secretKey: string;
  /** A secret: never in a message or a log line. */
  sessionToken: string;
  bucketName: string;
  /** Region; empty: us-east-1. */
  bucketLocation: string;
  /** http instead of https. */
  insecure: boolean;
  /** access-key, iam, or '' (access-key when ServerAddress, AccessKey and SecretKey are all set). */
  authenticationType: string;
  serverSideEncryption: string;
  serverSideEncryptionKeyId: string;
  /** null: true. */
  dualStack: boolean | null;
  /** null: auto (virtual-host style only for AWS and Google endpoints). */
  pathStyle: boolean | null;
  accelerate: boolean;
}

export interface DistributedCacheSettings {
  /** s3, gcs, azure or '' (none). */
  type: string;
  path: string;
  shared: boolean;
  /** Bytes; 0: no limit. */
  maxUploadedArchiveSize: number;
  s3: S3CacheSettings;
}
