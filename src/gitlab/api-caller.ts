/**
 * ApiCaller: one logical call to GitLab's API, as gitlab-runner's client makes it
 * (network/client.go, network/retry_requester.go):
 *
 * - URL `<base without trailing / and /ci>/api/v4/<path>`; `User-Agent` and a fresh
 *   `X-Request-Id` (uuid without dashes) on every call; `Content-Type: application/json` for
 *   JSON bodies and `Accept: application/json` when a body is expected;
 * - statuses 408/429/500/502/503/504/>=512 retried (5 attempts; RateLimit-ResetTime, Retry-After,
 *   else backoff), with an injectable clock; transport errors are not retried: they reject
 *   with HttpTransportError. Any HTTP answer resolves, whatever its status.
 *
 * Artifacts (artifacts-upload.ts, artifacts-download.ts) stream: a StreamBody is opened again
 * on every attempt, a `sink` takes a response body as it arrives, `attempts: 1` leaves retries to
 * the caller, and `fullUrl` sends to object storage (a redirect's Location) instead of the API.
 *
 * Log lines name the call (`what`, never a token), the status and GitLab's correlation id.
 */
import { randomUUID } from 'node:crypto';
import type { ProxySettings } from '../shared/proxy-env.js';
import type { z } from 'zod';
import { type Clock, systemClock } from './clock.js';
import { apiUrl, GitLabApiError, isJson, jsonMessage } from './gitlab-api-error.js';
import { header, HttpTransport, type HttpRequest, type HttpResponse, type ResponseSink, type StreamBody } from './http-transport.js';
import { API_RETRY_ATTEMPTS, isRetryableStatus, retryWaitMs } from './retry-policy.js';

/** Structurally a daemon RunnerLog; every field value is already safe to print. */
export interface ApiLog {
  debug(msg: string, fields?: Record<string, string | number | boolean | undefined>): void;
  warn(msg: string, fields?: Record<string, string | number | boolean | undefined>): void;
}

export interface ApiCallerOptions {
  /** Default `berth (node <version>; <os>/<arch>)`. */
  userAgent?: string;
  /** PEM CA bundle to trust for https (`tls-ca-file`). */
  tlsCaFile?: string;
  /** Bound of one HTTP exchange; default 10 min (gitlab-runner's response-header timeout). */
  timeoutMs?: number;
  /** Attempts for retryable statuses; default 5. */
  retryAttempts?: number;
  clock?: Clock;
  random?: () => number;
  log?: ApiLog;
  /** Called once per HTTP exchange (metrics): the endpoint without ids, and the status or "error". */
  observe?: (endpoint: string, status: number | 'error') => void;
  /** HTTP_PROXY, HTTPS_PROXY, NO_PROXY (default: read from berth's environment). */
  proxy?: ProxySettings;
}

/** One wait of the built-in retry: the status that caused it, how long, and the URL sent again. */
export interface RetryWait {
  status: number;
  waitMs: number;
  url: URL;
}

export interface ApiCall {
  method: HttpRequest['method'];
  /** The configured GitLab URL. */
  url: string;
  /** Below /api/v4/, with its query. */
  path: string;
  headers?: Record<string, string>;
  json?: unknown;
  /** A buffer, or a stream factory (opened again on every attempt). */
  body?: Buffer | StreamBody;
  /** Streams the response body (see HttpRequest.sink). */
  sink?: ResponseSink;
  /** Sent to this URL instead of `<url>/api/v4/<path>` (object storage after a redirect); `path` still names the call. */
  fullUrl?: URL;
  /** Attempts for retryable statuses, instead of the caller's (1: the caller retries itself). */
  attempts?: number;
  /** Told before each wait of the built-in retry (the helpers print it in the job log). */
  onRetry?: (wait: RetryWait) => void;
  contentType?: string;
  expectBody?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** See HttpRequest.headerTimeoutMs. */
  headerTimeoutMs?: number;
  /** For log lines: never a token. */
  what: string;
}

export class ApiCaller {
  private readonly transport: HttpTransport;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly attempts: number;
  private readonly userAgent: string;

  constructor(private readonly opts: ApiCallerOptions = {}) {
    this.transport = new HttpTransport({
      timeoutMs: opts.timeoutMs ?? 600_000,
      ...(opts.tlsCaFile ? { tlsCaFile: opts.tlsCaFile } : {}),
      ...(opts.proxy ? { proxy: opts.proxy } : {}),
    });
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.attempts = opts.retryAttempts ?? API_RETRY_ATTEMPTS;
    this.userAgent = opts.userAgent ?? `berth (node ${process.versions.node}; ${process.platform}/${process.arch})`;
  }

  close(): void {
    this.transport.close();
  }

  /** One logical call: retried on retryable statuses; rejects only on transport errors. */
  async call(call: ApiCall): Promise<HttpResponse> {
    const requestId = randomUUID().replace(/-/g, '');
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, 'X-Request-Id': requestId, ...call.headers };
    let body = call.body;
    if (call.json !== undefined) {
      body = Buffer.from(JSON.stringify(call.json), 'utf8');
      headers['Content-Type'] = 'application/json';
    } else if (call.contentType) {
      headers['Content-Type'] = call.contentType;
    }
    if (call.expectBody) headers.Accept = 'application/json';
    const url = call.fullUrl ?? apiUrl(call.url, call.path);
    const attempts = call.attempts ?? this.attempts;
    const endpoint = `${call.method} ${call.path.split('?')[0]!.replace(/\/\d+(?=\/|$)/g, '/:id')}`;
    for (let attempt = 1; ; attempt++) {
      const res = await this.transport
        .send({
          method: call.method,
          url,
          headers,
          ...(body ? { body } : {}),
          ...(call.sink ? { sink: call.sink } : {}),
          ...(call.signal ? { signal: call.signal } : {}),
          ...(call.timeoutMs ? { timeoutMs: call.timeoutMs } : {}),
          ...(call.headerTimeoutMs ? { headerTimeoutMs: call.headerTimeoutMs } : {}),
        })
        .catch((err: unknown) => {
          this.opts.observe?.(endpoint, 'error');
          throw err;
        });
      this.opts.observe?.(endpoint, res.status);
      const correlation = header(res.headers, 'x-request-id') ?? requestId;
      this.opts.log?.debug(`${call.what}...`, { status: res.status, attempt, correlation_id: correlation });
      if (!isRetryableStatus(res.status) || attempt >= attempts) return res;
      const wait = retryWaitMs(res.headers, attempt, this.clock.now(), this.random);
      this.opts.log?.warn(`${call.what}... got ${res.status}, retrying`, { attempt, wait_ms: wait, correlation_id: correlation });
      call.onRetry?.({ status: res.status, waitMs: wait, url });
      await this.clock.sleep(wait, call.signal);
    }
  }
}

/** The body of a success answer, decoded only when its content type is JSON. */
export function decodeJson<S extends z.ZodType>(res: HttpResponse, schema: S, what: string, url: string): z.output<S> {
  const parsed = isJson(res) ? safeJson(res.body) : undefined;
  const r = schema.safeParse(parsed);
  if (!r.success) throw new GitLabApiError(`${what}... GitLab's answer (${res.status}) is not the expected JSON`, res, url);
  return r.data;
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** " (status N: GitLab's message)", for error messages. */
export function describeStatus(res: HttpResponse): string {
  const msg = jsonMessage(res);
  return ` (status ${res.status}${msg ? `: ${msg}` : ''})`;
}
