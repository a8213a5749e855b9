/**
 * Presigned S3 URLs for one cache object (gitlab-runner cache/s3v2/s3.go PresignURL and
 * cache/s3v2/adapter.go): GET and HEAD to restore, PUT to save. The PUT signs the object's
 * metadata (`x-amz-meta-cachekey`) and the server-side encryption headers; `headers` lists the
 * signed headers the request must send. The URLs' query strings hold the signature (and a session
 * token): they must never be logged (see cleanUrl in cache-http-client.ts).
 *
 * A server named by ServerAddress with access keys is signed by the SDK's Signature V4 signer
 * alone (s3-sigv4-presigner.ts); AWS endpoints resolved from a region, and IAM credentials, go
 * through the full S3 client (s3-sdk-presigner.ts). Either is loaded on first use.
 */
import type { S3CacheSettings } from './cache-settings.js';
import { authType, endpointUrl, type PresignedRequest } from './s3-endpoint.js';
import { S3SdkPresigner } from './s3-sdk-presigner.js';
import { S3SigV4Presigner } from './s3-sigv4-presigner.js';

export type { PresignedRequest } from './s3-endpoint.js';
export { authType } from './s3-endpoint.js';
export { clientConfig } from './s3-sdk-presigner.js';

export class S3Presigner {
  private readonly impl: S3SdkPresigner | S3SigV4Presigner;

  constructor(settings: S3CacheSettings) {
    const endpoint = endpointUrl(settings);
    this.impl = endpoint && authType(settings) === 'access-key' ? new S3SigV4Presigner(settings, endpoint) : new S3SdkPresigner(settings);
  }

  /** Which signer serves this cache (for tests and the benchmark). */
  get signer(): 'sigv4' | 'sdk' {
    return this.impl instanceof S3SigV4Presigner ? 'sigv4' : 'sdk';
  }

  /** `expiresInSeconds` is the job timeout (gitlab-runner shells/abstract.go: GetAdapter(…, build.GetBuildTimeout(), …)). */
  presign(method: PresignedRequest['method'], objectName: string, expiresInSeconds: number, cacheKey = ''): Promise<PresignedRequest> {
    return this.impl.presign(method, objectName, expiresInSeconds, cacheKey);
  }
}
