/**
 * Presigning for an S3 server named by ServerAddress with access keys (MinIO, Ceph, s3rver, or
 * AWS through an explicit address): Signature V4 query signing with the SDK's own signer
 * (`@smithy/signature-v4`), without loading the S3 client. The S3 client adds ~20 MB of RSS for
 * its middleware, endpoint rules and credential chain, none of which such a server needs.
 *
 * The URL follows the S3 client's: path style `/<bucket>/<key>` or virtual host
 * `<bucket>.<host>/<key>`, each key segment escaped the way S3 canonicalises it, payload
 * UNSIGNED-PAYLOAD, `x-amz-*` headers hoisted into the query except the ones a PUT must send.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';
import { cjsNamed } from '../shared/cjs-named.js';
import type { S3CacheSettings } from './cache-settings.js';
import { expirySeconds, pathStyle, putHeaders, region, type PresignedRequest } from './s3-endpoint.js';

type PresignInput = Parameters<SignatureV4['presign']>[0];

/** The SDK's hash interface over node:crypto (HMAC when given a secret). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class S3SigV4Presigner {
  private signer: Promise<SignatureV4> | undefined;

  /** `endpoint` is the ServerAddress as a URL (endpointUrl). */
  constructor(
    private readonly settings: S3CacheSettings,
    private readonly endpoint: URL,
  ) {}

  async presign(method: PresignedRequest['method'], objectName: string, expiresInSeconds: number, cacheKey = ''): Promise<PresignedRequest> {
    const s = this.settings;
    this.signer ??= import('@smithy/signature-v4').then(
      (mod) =>
        new (cjsNamed(mod, 'SignatureV4').SignatureV4)({
          service: 's3',
          region: region(s),
          credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) },
          sha256: NodeSha256,
          // S3 signs the path as sent: no second escaping.
          uriEscapePath: false,
        }),
    );
    const signer = await this.signer;
    const { host, path } = this.address(objectName);
    const put = method === 'PUT' ? putHeaders(s, cacheKey) : null;
    const request: PresignInput = {
      method,
      protocol: this.endpoint.protocol,
      hostname: host.replace(/:\d+$/, ''),
      ...(this.endpoint.port ? { port: Number(this.endpoint.port) } : {}),
      path,
      query: {},
      headers: {
        host,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        // A cache key that is not printable ASCII goes into the query string (hoisted), signed.
        ...(put ? { 'x-amz-meta-cachekey': put.metadata.cachekey, ...put.headers } : {}),
      },
    };
    const signed = await signer.presign(request, { expiresIn: expirySeconds(expiresInSeconds), unhoistableHeaders: new Set(Object.keys(put?.headers ?? {})) });
    return { method, url: urlOf(signed), headers: put?.headers ?? {} };
  }

  /** Host (with a port that is not the protocol's default) and escaped path of an object. */
  private address(objectName: string): { host: string; path: string } {
    const bucket = this.settings.bucketName;
    const key = objectName.split('/').map(escapeSegment).join('/');
    if (pathStyle(this.settings, this.endpoint) || !dnsCompatible(bucket)) return { host: this.endpoint.host, path: `/${escapeSegment(bucket)}/${key}` };
    return { host: `${bucket}.${this.endpoint.host}`, path: `/${key}` };
  }
}

/** RFC 3986 escaping, as S3 canonicalises a key segment (encodeURIComponent plus !'()*). */
function escapeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A bucket name usable as a host label (the S3 client falls back to path style otherwise). */
function dnsCompatible(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) && !bucket.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(bucket);
}

function urlOf(req: PresignInput): string {
  const query = Object.entries(req.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : v === null || v === undefined ? [[k]] : [[k, v]]))
    .map((kv) => kv.map((x) => escapeSegment(String(x))).join('='))
    .join('&');
  const host = String(req.headers.host);
  return `${req.protocol}//${host}${req.path}${query ? `?${query}` : ''}`;
}
