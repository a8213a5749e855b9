/**
 * Where an S3 cache object lives and what its presigned requests carry, from `[runners.cache.s3]`
 * (gitlab-runner cache/cacheconfig.go and cache/s3v2): the endpoint, the addressing style, the
 * authentication type and the headers a presigned PUT signs. Shared by both presigners.
 */
import type { S3CacheSettings } from './cache-settings.js';

export interface PresignedRequest {
  method: 'GET' | 'HEAD' | 'PUT';
  url: string;
  /** Signed headers the request must send as they are. */
  headers: Record<string, string>;
}

/** S3 refuses presigned URLs valid for more than 7 days. */
const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

/** The URL's lifetime: the job timeout, between 1 s and S3's 7 days. */
export function expirySeconds(seconds: number): number {
  return Math.min(MAX_EXPIRY_SECONDS, Math.max(1, Math.round(seconds)));
}

/** cacheconfig.go GetEndpoint: `http(s)://ServerAddress`, canonical ports left out. */
export function endpointUrl(s: S3CacheSettings): URL | null {
  if (!s.serverAddress) return null;
  return new URL(`${s.insecure ? 'http' : 'https'}://${s.serverAddress}`);
}

/** cacheconfig.go AuthType: an explicit type wins; else access-key only with address and both keys. */
export function authType(s: S3CacheSettings): 'access-key' | 'iam' {
  const explicit = s.authenticationType.toLowerCase();
  if (explicit === 'access-key' || explicit === 'iam') return explicit;
  return s.serverAddress && s.accessKey && s.secretKey ? 'access-key' : 'iam';
}

/** BucketLocation, or us-east-1. */
export function region(s: S3CacheSettings): string {
  return s.bucketLocation || 'us-east-1';
}

/**
 * cacheconfig.go PathStyleEnabled: an explicit PathStyle wins; else path style unless the endpoint
 * supports virtual hosts (minio s3utils.IsVirtualHostSupported: AWS or Google, and over https a
 * bucket name without dots).
 */
export function pathStyle(s: S3CacheSettings, endpoint: URL | null): boolean {
  if (s.pathStyle !== null) return s.pathStyle;
  if (!endpoint) return false;
  const host = endpoint.hostname;
  const known = /(^|\.)amazonaws\.com(\.cn)?$/.test(host) || host === 'storage.googleapis.com';
  if (!known) return true;
  return endpoint.protocol === 'https:' && s.bucketName.includes('.');
}

/** The signed headers of a presigned PUT: the cache key as metadata, server-side encryption. */
export interface PutHeaders {
  headers: Record<string, string>;
  /** Metadata the SDK's PutObject input carries. */
  metadata: Record<string, string>;
  encryption: 'AES256' | 'aws:kms' | 'aws:kms:dsse' | null;
  kmsKeyId: string | null;
}

export function putHeaders(s: S3CacheSettings, cacheKey: string): PutHeaders {
  const headers: Record<string, string> = {};
  // A header value must be printable ASCII; a key with other characters stays in the query string.
  if (/^[\x20-\x7e]*$/.test(cacheKey)) headers['x-amz-meta-cachekey'] = cacheKey;
  const sse = encryption(s);
  const kmsKeyId = sse && sse !== 'AES256' && s.serverSideEncryptionKeyId ? s.serverSideEncryptionKeyId : null;
  if (sse) headers['x-amz-server-side-encryption'] = sse;
  if (kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = kmsKeyId;
  return { headers, metadata: { cachekey: cacheKey }, encryption: sse, kmsKeyId };
}

/** cacheconfig.go EncryptionType → the x-amz-server-side-encryption value. */
function encryption(s: S3CacheSettings): PutHeaders['encryption'] {
  switch (s.serverSideEncryption.toUpperCase()) {
    case 'S3':
    case 'AES256':
      return 'AES256';
    case 'KMS':
    case 'AWS:KMS':
      return 'aws:kms';
    case 'DSSE-KMS':
    case 'AWS:KMS:DSSE':
      return 'aws:kms:dsse';
    default:
      return null;
  }
}
