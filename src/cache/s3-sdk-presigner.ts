/**
 * Presigning through the AWS SDK's S3 client (`@aws-sdk/client-s3` + `s3-request-presigner`), for
 * what needs its endpoint resolution and credential chain: AWS's own endpoints (no ServerAddress:
 * region, dual-stack, acceleration) and IAM credentials (environment, web identity, instance
 * metadata). Loaded on first use: ~20 MB of RSS a runner without such a cache never pays.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { cjsNamed } from '../shared/cjs-named.js';
import type { S3CacheSettings } from './cache-settings.js';
import { authType, endpointUrl, expirySeconds, pathStyle, putHeaders, region, type PresignedRequest } from './s3-endpoint.js';

async function loadSdk() {
  // On Node < 22 the SDK writes a NodeVersionSupportWarning about its own future releases to
  // stderr once per process: a notice for whoever builds berth, not for a runner's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [s3, presigner] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
  const client = cjsNamed(s3, 'S3Client');
  return {
    S3Client: client.S3Client,
    GetObjectCommand: client.GetObjectCommand,
    HeadObjectCommand: client.HeadObjectCommand,
    PutObjectCommand: client.PutObjectCommand,
    getSignedUrl: cjsNamed(presigner, 'getSignedUrl').getSignedUrl,
  };
}
type Sdk = Awaited<ReturnType<typeof loadSdk>>;

export class S3SdkPresigner {
  private sdk: Promise<{ sdk: Sdk; client: S3Client }> | undefined;

  constructor(private readonly settings: S3CacheSettings) {}

  async presign(method: PresignedRequest['method'], objectName: string, expiresInSeconds: number, cacheKey = ''): Promise<PresignedRequest> {
    const Bucket = this.settings.bucketName;
    const expiresIn = expirySeconds(expiresInSeconds);
    this.sdk ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.S3Client(clientConfig(this.settings)) }));
    const { sdk, client } = await this.sdk;
    const { GetObjectCommand, HeadObjectCommand, PutObjectCommand, getSignedUrl } = sdk;
    if (method === 'GET') return { method, url: await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: objectName }), { expiresIn }), headers: {} };
    if (method === 'HEAD') return { method, url: await getSignedUrl(client, new HeadObjectCommand({ Bucket, Key: objectName }), { expiresIn }), headers: {} };
    const put = putHeaders(this.settings, cacheKey);
    const command = new PutObjectCommand({
      Bucket,
      Key: objectName,
      Metadata: put.metadata,
      ...(put.encryption ? { ServerSideEncryption: put.encryption } : {}),
      ...(put.kmsKeyId ? { SSEKMSKeyId: put.kmsKeyId } : {}),
    });
    const url = await getSignedUrl(client, command, { expiresIn, unhoistableHeaders: new Set(Object.keys(put.headers)) });
    return { method, url, headers: put.headers };
  }
}

/** The S3 client's endpoint, style, region and credentials from `[runners.cache.s3]`. */
export function clientConfig(s: S3CacheSettings): S3ClientConfig {
  const endpoint = endpointUrl(s);
  const config: S3ClientConfig = {
    region: region(s),
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
