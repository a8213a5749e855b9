/**
 * An S3 server for cache tests: s3rver 3.7.1 in process on 127.0.0.1:<random port>, objects in a
 * temporary directory, one bucket, path-style URLs.
 *
 * s3rver checks SigV2 signatures but NOT SigV4 ("Signature version 4 calculation is unimplemented"
 * in s3rver/lib/middleware/authentication.js: any V4 request with a known access key passes). So
 * this harness verifies presigned SigV4 query signatures itself (AWS's canonical request, with
 * the secret below) in front of s3rver and answers 403 SignatureDoesNotMatch, as S3 does. Requests
 * signed in the Authorization header are passed through unchecked. s3rver stores `x-amz-meta-*`
 * both from headers and from presigned query parameters.
 *
 * Also: `failNext(n, status)` answers the next n requests with an S3 error (for retry tests),
 * `cutNextBody(n)` closes the connection of the next GET without a Range header after n bytes of
 * its body, and `requests` records method, path, headers and status of every request (never the
 * query string).
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3CacheSettings } from '../../src/cache/cache-settings.js';

/** The credentials s3rver's built-in account accepts (s3rver/lib/models/account.js). */
export const S3RVER_ACCESS_KEY = 'S3RVER';
export const S3RVER_SECRET_KEY = 'S3RVER';

interface S3rverInstance {
  configureBuckets(): Promise<void>;
  callback(): RequestListener;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface RecordedS3Request {
  method: string;
  /** Path without the query string. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The status s3rver (or the harness) answered. */
  status?: number;
}

export interface S3TestServer {
  /** `127.0.0.1:<port>`: the cache's ServerAddress (with Insecure = true). */
  address: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  /** Object storage directory of s3rver. */
  directory: string;
  requests: RecordedS3Request[];
  /** The next `count` requests get `status` with an S3 XML error. */
  failNext(count: number, status?: number): void;
  /** The next GET without a Range header: its connection closed after `bytes` of the body. */
  cutNextBody(bytes: number): void;
  stop(): Promise<void>;
}

export async function startS3TestServer(bucket = 'berth-cache'): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'berth-s3rver-'));
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  const s3rver = new S3rver({ silent: true, directory, vhostBuckets: false, configureBuckets: [{ name: bucket, configs: [] }] });
  await s3rver.configureBuckets();
  const inner = s3rver.callback();
  const requests: RecordedS3Request[] = [];
  let failures = { count: 0, status: 503 };
  let cut: number | null = null;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: RecordedS3Request = { method: req.method ?? '', path: url.pathname, headers: req.headers };
    requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    if (cut !== null && req.method === 'GET' && req.headers.range === undefined) {
      cutBody(res, cut);
      cut = null;
    }
    if (failures.count > 0) {
      failures.count--;
      return void s3Error(res, failures.status, 'ServiceUnavailable', 'Injected failure');
    }
    if (url.searchParams.has('X-Amz-Signature') && !validPresignedSignature(req, S3RVER_SECRET_KEY)) {
      return void s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    }
    inner(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    bucket,
    accessKey: S3RVER_ACCESS_KEY,
    secretKey: S3RVER_SECRET_KEY,
    directory,
    requests,
    failNext(count, status = 503) {
      failures = { count, status };
    },
    cutNextBody(bytes) {
      cut = bytes;
    },
    async stop() {
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Sends the first `limit` bytes of the body, then closes the connection. */
function cutBody(res: ServerResponse, limit: number): void {
  let sent = 0;
  const write = res.write.bind(res) as (chunk: Buffer) => boolean;
  res.write = ((chunk: string | Uint8Array) => {
    const bytes = Buffer.from(chunk);
    if (sent + bytes.length < limit) {
      sent += bytes.length;
      return write(bytes);
    }
    write(bytes.subarray(0, limit - sent));
    sent = limit;
    res.socket?.destroy();
    return false;
  }) as ServerResponse['write'];
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/** AWS Signature Version 4, query-string form: recompute the signature and compare. */
function validPresignedSignature(req: IncomingMessage, secret: string): boolean {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = (q < 0 ? '' : raw.slice(q + 1))
    .split('&')
    .filter(Boolean)
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return eq < 0 ? [dec(pair), ''] : [dec(pair.slice(0, eq)), dec(pair.slice(eq + 1))];
    });
  const get = (name: string) => params.find(([k]) => k === name)?.[1] ?? '';
  const signedHeaders = get('X-Amz-SignedHeaders').split(';');
  const canonicalQuery = params
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a, av], [b, bv]) => (a! < b! ? -1 : a! > b! ? 1 : av! < bv! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payload = get('X-Amz-Content-Sha256') || 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [req.method, path, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payload].join('\n');
  const [, date, region, service] = get('X-Amz-Credential').split('/');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', get('X-Amz-Date'), scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date ?? ''), region ?? ''), service ?? ''), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex') === get('X-Amz-Signature');
}

/** `[runners.cache.s3]` settings, all empty but the bucket name, with `over` applied. */
export function s3CacheSettings(over: Partial<S3CacheSettings> = {}): S3CacheSettings {
  return {
    serverAddress: '',
    accessKey: '',
    secretKey: '',
    sessionToken: '',
    bucketName: 'bucket',
    bucketLocation: '',
    insecure: false,
    authenticationType: '',
    serverSideEncryption: '',
    serverSideEncryptionKeyId: '',
    dualStack: null,
    pathStyle: null,
    accelerate: false,
    ...over,
  };
}

/** Settings that reach `server` (http, path style, s3rver's keys). */
export function s3CacheSettingsFor(server: S3TestServer, over: Partial<S3CacheSettings> = {}): S3CacheSettings {
  return s3CacheSettings({ serverAddress: server.address, insecure: true, accessKey: server.accessKey, secretKey: server.secretKey, bucketName: server.bucket, ...over });
}
