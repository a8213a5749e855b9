/**
 * Plain HTTP(S) requests to presigned cache URLs, streamed both ways (gitlab-runner
 * commands/helpers/cache_client.go, retry_helper.go). A failure is a CacheHttpError whose
 * message never holds the URL's query string (the signature, a session token): URLs in messages
 * and log lines go through cleanUrl.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { abortReason, withTimeout } from '../shared/abort.js';
import { errorMessage } from '../shared/errors.js';
import { sendStream } from '../shared/releasing-pipe.js';
import type { ProxiedAgent, ProxyAgents } from '../shared/proxy-agents.js';
import { throughProxy } from '../shared/proxy-env.js';
import { CacheError } from './cache-error.js';

/** gitlab-runner common/consts.go: CACHE_REQUEST_TIMEOUT defaults to 10 minutes. */
export const DEFAULT_CACHE_REQUEST_TIMEOUT_MS = 10 * 60_000;

export interface CacheHttpRequest {
  method: 'GET' | 'HEAD' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  /** PUT body and its length in bytes. */
  body?: { stream: Readable; length: number };
  /** The proxies of HTTP_PROXY / HTTPS_PROXY / NO_PROXY (none: a direct connection). */
  proxies?: ProxyAgents;
}

export class CacheHttpError extends CacheError {
  /** HTTP status, or 0 for a network error. */
  readonly status: number;
  /** Network errors and 5xx are worth another try (retry_helper.go retryOnServerError). */
  readonly retryable: boolean;

  constructor(message: string, status: number, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.retryable = retryable;
  }
}

/** A response header's (first) value; '' when it is absent. */
export function responseHeader(res: IncomingMessage, name: string): string {
  const v = res.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** The URL without its query string, fragment and user info: what may be logged. */
export function cleanUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.split(/[?#]/)[0] ?? '';
  }
}

/**
 * Sends the request; resolves with the response once its headers arrived (the caller reads or
 * drops the body). A network error or the timeout rejects with a retryable CacheHttpError; an
 * abort of `signal` rejects with the abort error.
 */
export function sendCacheRequest(req: CacheHttpRequest, signal: AbortSignal, timeoutMs = DEFAULT_CACHE_REQUEST_TIMEOUT_MS): Promise<IncomingMessage> {
  const url = new URL(req.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  // The timeout bounds the whole exchange, body included (gitlab-runner's 10 minutes); its timer is unref'd.
  const combined = withTimeout(signal, timeoutMs).signal;
  const headers: Record<string, string | number> = { ...req.headers };
  if (req.body) headers['Content-Length'] = req.body.length;
  let proxied: ProxiedAgent | null;
  try {
    proxied = req.proxies?.agentFor(url) ?? null;
  } catch (err) {
    return Promise.reject(new CacheHttpError(`${req.method} ${cleanUrl(req.url)}: ${errorMessage(err)}`, 0, false, { cause: err }));
  }
  return new Promise<IncomingMessage>((resolve, reject) => {
    const fail = (err: unknown): void => {
      if (signal.aborted) return reject(abortReason(signal));
      const reason = combined.aborted && !signal.aborted ? `no answer within ${timeoutMs / 1000}s` : errorMessage(err);
      reject(new CacheHttpError(`${req.method} ${cleanUrl(req.url)}: ${reason}${throughProxy(proxied?.proxy)}`, 0, true, { cause: err }));
    };
    const outgoing = send(url, { method: req.method, headers, signal: combined, ...(proxied ? { agent: proxied.agent } : {}) }, resolve);
    outgoing.on('error', fail);
    // sendStream: a FileBlockStream's blocks are reused once the socket has taken them.
    if (req.body) sendStream(req.body.stream, outgoing).catch(fail);
    else outgoing.end();
  });
}

/**
 * A CacheHttpError for a non-2xx response, in gitlab-runner's words: `received: 403 Forbidden`,
 * plus `. Request failed with code: <Code>, message: <Message>` from an S3 XML error body.
 * Consumes the body (at most 64 KiB of it).
 */
export async function responseError(res: IncomingMessage): Promise<CacheHttpError> {
  const status = res.statusCode ?? 0;
  const body = await readSome(res, 64 * 1024);
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  const detail = code ? `. Request failed with code: ${code}, message: ${message ?? ''}` : '';
  return new CacheHttpError(`received: ${status} ${res.statusMessage ?? ''}`.trimEnd() + detail, status, status >= 500);
}

async function readSome(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (size < limit) chunks.push(chunk.subarray(0, limit - size));
      size += chunk.length;
    }
  } catch {
    // a body cut short still says what it said so far
  }
  return Buffer.concat(chunks).toString('utf8');
}
