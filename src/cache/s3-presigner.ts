/**
 * Presigned S3 URLs for one cache object (gitlab-runner cache/s3v2/s3.go PresignURL and
 * cache/s3v2/adapter.go): GET and HEAD to restore, PUT to save. The PUT signs the object's
 * metadata (`x-amz-meta-cachekey`) and the server-side encryption headers; `headers` lists the
 * signed headers the request must send. The URLs' query strings hold the signature (and a session
 * token): they must never be logged (see cleanUrl in cache-http-client.ts).
 */
import type { PutObjectCommandInput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3CacheSettings } from './cache-settings.js';

export interface PresignedRequest {
  method: 'GET' | 'HEAD' | 'PUT';
  url: string;
  /** Signed headers the request must send as they are. */
  headers: Record<string, string>;
}

/** S3 refuses presigned URLs valid for more than 7 days. */
const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

/** The AWS SDK is loaded on first use: a runner without an S3 cache never loads it. */
async function loadSdk() {
  // On Node < 22 the SDK writes a NodeVersionSupportWarning about its own future releases to
  // stderr once per process: a notice for whoever builds berth, not for a runner's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [s3, presigner] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
  // Bundled (dist/), these CommonJS packages come as a namespace whose named exports sit on `default`.
  const named = <T extends object>(mod: T): T => ('default' in mod && mod.default && typeof mod.default === 'object' && !('S3Client' in mod) && !('getSignedUrl' in mod) ? (mod.default as T) : mod);
  const client = named(s3);
  return {
    S3Client: client.S3Client,
    GetObjectCommand: client.GetObjectCommand,
    HeadObjectCommand: client.HeadObjectCommand,
    PutObjectCommand: client.PutObjectCommand,
    getSignedUrl: named(presigner).getSignedUrl,
  };
}
type Sdk = Awaited<ReturnType<typeof loadSdk>>;

export class S3Presigner {
  private sdk: Promise<{ sdk: Sdk; client: S3Client }> | undefined;

  constructor(private readonly settings: S3CacheSettings) {}

  /** `expiresInSeconds` is the job timeout (gitlab-runner shells/abstract.go: GetAdapter(…, build.GetBuildTimeout(), …)). */
  async presign(method: PresignedRequest['method'], objectName: string, expiresInSeconds: number, cacheKey = ''): Promise<PresignedRequest> {
    const Bucket = this.settings.bucketName;
    const expiresIn = Math.min(MAX_EXPIRY_SECONDS, Math.max(1, Math.round(expiresInSeconds)));
    this.sdk ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.S3Client(clientConfig(this.settings)) }));
    const { sdk, client } = await this.sdk;
    const { GetObjectCommand, HeadObjectCommand, PutObjectCommand, getSignedUrl } = sdk;
    if (method === 'GET') return { method, url: await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: objectName }), { expiresIn }), headers: {} };
    if (method === 'HEAD') return { method, url: await getSignedUrl(client, new HeadObjectCommand({ Bucket, Key: objectName }), { expiresIn }), headers: {} };
    const input: PutObjectCommandInput = { Bucket, Key: objectName, Metadata: { cachekey: cacheKey } };
    const headers: Record<string, string> = {};
    const unhoistableHeaders = new Set<string>();
    // A header value must be printable ASCII; a key with other characters stays in the query string.
    if (/^[\x20-\x7e]*$/.test(cacheKey)) {
      headers['x-amz-meta-cachekey'] = cacheKey;
      unhoistableHeaders.add('x-amz-meta-cachekey');
    }
    const sse = encryption(this.settings);
    if (sse) {
      input.ServerSideEncryption = sse;
      headers['x-amz-server-side-encryption'] = sse;
      if (sse !== 'AES256' && this.settings.serverSideEncryptionKeyId) {
        input.SSEKMSKeyId = this.settings.serverSideEncryptionKeyId;
        headers['x-amz-server-side-encryption-aws-kms-key-id'] = this.settings.serverSideEncryptionKeyId;
      }
    }
    const url = await getSignedUrl(client, new PutObjectCommand(input), { expiresIn, unhoistableHeaders });
    return { method, url, headers };
  }
}

/** The S3 client's endpoint, style, region and credentials from `[runners.cache.s3]`. */
export function clientConfig(s: S3CacheSettings): S3ClientConfig {
  const endpoint = endpointUrl(s);
  const config: S3ClientConfig = {
    region: s.bucketLocation || 'us-east-1',
    forcePathStyle: pathStyle(s, endpoint),
    // cache/s3v2: dual-stack and acceleration apply to AWS's own endpoints only.
    useDualstackEndpoint: !endpoint && (s.dualStack ?? true),
    useAccelerateEndpoint: !endpoint && s.accelerate,
  };
  if (endpoint) config.endpoint = endpoint.href.replace(/\/$/, '');
  if (authType(s) === 'access-key') {
    config.credentials = { accessKeyId: s.accessKey, secretAccessKey: s.secretKey, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) };
  }
  // iam: the SDK's default chain (environment, web identity, instance metadata).
  return config;
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

/**
 * cacheconfig.go PathStyleEnabled: an explicit PathStyle wins; else path style unless the endpoint
 * supports virtual hosts (minio s3utils.IsVirtualHostSupported: AWS or Google, and over https a
 * bucket name without dots).
 */
function pathStyle(s: S3CacheSettings, endpoint: URL | null): boolean {
  if (s.pathStyle !== null) return s.pathStyle;
  if (!endpoint) return false;
  const host = endpoint.hostname;
  const known = /(^|\.)amazonaws\.com(\.cn)?$/.test(host) || host === 'storage.googleapis.com';
  if (!known) return true;
  return endpoint.protocol === 'https:' && s.bucketName.includes('.');
}

/** cacheconfig.go EncryptionType → the x-amz-server-side-encryption value. */
function encryption(s: S3CacheSettings): 'AES256' | 'aws:kms' | 'aws:kms:dsse' | null {
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
