/**
 * HttpTransport: one HTTP exchange with GitLab over node:http / node:https, body fully read.
 *
 * Why not the global fetch: on Node 20 the built-in fetch cannot be given a CA certificate
 * (`tls-ca-file`) or separate header/body timeouts without the `undici` package; node:https
 * can, with no new dependency. Keep-alive sockets are pooled per transport; `close()` ends them.
 *
 * Streaming (artifacts): a request body may be a `StreamBody` (a factory of a Readable, of known
 * length or chunked, opened once per send, so a retry sends it again), and a `sink` may take the response
 * body as it arrives instead of buffering it; neither holds a whole file in memory.
 *
 * Timeouts: `timeoutMs` bounds the whole exchange (connect, headers, body); `headerTimeoutMs`,
 * when given, bounds the wait for the response headers once the request is sent (Go's
 * ResponseHeaderTimeout: gitlab-runner's response_header_timeout for artifacts). A caller's
 * AbortSignal ends it earlier. Either way the socket is destroyed and the promise rejects
 * with an HttpTransportError (never with a token in the message).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, errorMessage } from '../shared/errors.js';
import { sendStream } from '../shared/releasing-pipe.js';
import type { ProxiedAgent, ProxyAgents } from '../shared/proxy-agents.js';
import { proxySettingsFrom, throughProxy, type ProxySettings } from '../shared/proxy-env.js';
import { proxyAgentsFor } from '../shared/proxy-agents-for.js';

/** A request body streamed from elsewhere (a file, an archive being made): `open()` is called once per send. */
export interface StreamBody {
  /** Sent as Content-Length; undefined sends the body chunked (its length is not known up front). */
  length?: number;
  open(): Readable;
}

/**
 * Takes a response body as it arrives: called once the status and headers are known. Return a
 * Writable to stream the body into it (the send resolves once it has finished, with an empty
 * `body`), or undefined to buffer it as usual (error answers).
 */
export type ResponseSink = (status: number, headers: IncomingHttpHeaders) => Writable | undefined;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | StreamBody;
  sink?: ResponseSink;
  signal?: AbortSignal;
  /** Overrides the transport's default timeout for this request. */
  timeoutMs?: number;
  /** Bound of the wait for the response headers after the request was sent. */
  headerTimeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  /** The reason phrase the server sent ("Request Entity Too Large"), if any. */
  statusText?: string;
  headers: IncomingHttpHeaders;
  /** Empty when a sink took the body. */
  body: Buffer;
}

export interface HttpTransportOptions {
  /** PEM file with the CA certificates to trust for https (`tls-ca-file`). */
  tlsCaFile?: string;
  /** Default bound for one exchange. */
  timeoutMs: number;
  /** Largest response body accepted (a job payload is a few KiB; default 32 MiB). */
  maxResponseBytes?: number;
  /** HTTP_PROXY, HTTPS_PROXY, NO_PROXY (default: read from berth's environment when the transport is made). */
  proxy?: ProxySettings;
}

/** One header's value (the first, when repeated); `name` in lower case. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A request that got no HTTP response: refused, reset, timed out, aborted, TLS failure. */
export class HttpTransportError extends BerthError {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'aborted' | 'network',
    options?: { cause?: unknown },
  ) {
    super('gitlab_unreachable', message, options);
  }
}

export class HttpTransport {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly https: HttpsAgent;
  /** The agents of HTTP_PROXY / HTTPS_PROXY; null when no proxy is set. */
  private readonly proxies: Promise<ProxyAgents> | null;
  /** The target's TLS settings: the https agent's, and a proxied request's own (a tunnel's agent does not pass its options on). */
  private readonly tls: { minVersion: 'TLSv1.2'; ca?: Buffer };
  private readonly maxResponseBytes: number;

  constructor(private readonly opts: HttpTransportOptions) {
    const ca = opts.tlsCaFile ? readCa(opts.tlsCaFile) : undefined;
    this.tls = { minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) };
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: 16, ...this.tls });
    this.proxies = proxyAgentsFor(opts.proxy ?? proxySettingsFrom());
    this.maxResponseBytes = opts.maxResponseBytes ?? 32 * 1024 * 1024;
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    const where = `${req.method} ${req.url.origin}${req.url.pathname}`;
    if (req.signal?.aborted) {
      return Promise.reject(new HttpTransportError(`${where}: aborted`, 'aborted', { cause: req.signal.reason }));
    }
    if (!this.proxies) return this.sendVia(req, null, where);
    return this.proxies.then((agents) => this.sendVia(req, agents.agentFor(req.url), where));
  }

  /** The exchange, through `proxied` (null: directly). */
  private sendVia(req: HttpRequest, proxied: ProxiedAgent | null, where: string): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs;
    const via = throughProxy(proxied?.proxy);
    return new Promise<HttpResponse>((resolve, reject) => {
      const isHttps = req.url.protocol === 'https:';
      const headers: Record<string, string> = { ...req.headers };
      const body = req.body;
      if (body && body.length !== undefined) headers['Content-Length'] = String(body.length);
      const agent = proxied?.agent ?? (isHttps ? this.https : this.http);
      const r = (isHttps ? httpsRequest : httpRequest)(req.url, { method: req.method, headers, agent, ...(proxied && isHttps ? this.tls : {}) });
      let settled = false;
      const fail = (err: HttpTransportError): void => {
        if (settled) return;
        settled = true;
        cleanup();
        r.destroy();
        reject(err);
      };
      r.on('error', (err) => fail(new HttpTransportError(`${where}: ${errorMessage(err)}${via}`, 'network', { cause: err })));
      const timer = setTimeout(
        () => fail(new HttpTransportError(`${where}: no complete answer within ${timeoutMs} ms`, 'timeout')),
        timeoutMs,
      );
      const onAbort = (): void => fail(new HttpTransportError(`${where}: aborted`, 'aborted', { cause: req.signal?.reason }));
      let headerTimer: NodeJS.Timeout | undefined;
      const headerTimeoutMs = req.headerTimeoutMs;
      if (headerTimeoutMs !== undefined) {
        r.on('finish', () => {
          if (settled) return;
          headerTimer = setTimeout(
            () => fail(new HttpTransportError(`${where}: no response headers within ${headerTimeoutMs} ms of sending the request`, 'timeout')),
            headerTimeoutMs,
          );
        });
      }
      const cleanup = (): void => {
        clearTimeout(timer);
        clearTimeout(headerTimer);
        req.signal?.removeEventListener('abort', onAbort);
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('response', (res) => {
        clearTimeout(headerTimer);
        const done = (): void => {
          if (settled) return;
          settled = true;
          cleanup();
          resolve({ status: res.statusCode ?? 0, ...(res.statusMessage ? { statusText: res.statusMessage } : {}), headers: res.headers, body: Buffer.concat(chunks) });
        };
        const chunks: Buffer[] = [];
        const sink = req.sink?.(res.statusCode ?? 0, res.headers);
        if (sink) {
          pipeline(res, sink).then(
            () => (res.complete ? done() : fail(new HttpTransportError(`${where}: the connection closed before the response was complete`, 'network'))),
            (err: unknown) => fail(new HttpTransportError(`${where}: ${errorMessage(err)}`, 'network', { cause: err })),
          );
          return;
        }
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxResponseBytes) {
            fail(new HttpTransportError(`${where}: response larger than ${this.maxResponseBytes} bytes`, 'network'));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => fail(new HttpTransportError(`${where}: ${errorMessage(err)}`, 'network', { cause: err })));
        res.on('close', () => {
          if (!res.complete) fail(new HttpTransportError(`${where}: the connection closed before the response was complete`, 'network'));
        });
        res.on('end', done);
      });
      if (body === undefined || Buffer.isBuffer(body)) {
        r.end(body);
        return;
      }
      // A streamed body: an error reading it (or the request ending early) fails the send.
      sendStream(body.open(), r).catch((err: unknown) => fail(new HttpTransportError(`${where}: sending the body failed: ${errorMessage(err)}`, 'network', { cause: err })));
    });
  }

  /** Closes pooled sockets. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
    void this.proxies?.then((agents) => agents.destroy());
  }
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new BerthError(
      'tls_ca_file_unreadable',
      `Cannot read the TLS CA file "${file}" (tls-ca-file): ${errorMessage(err)}. Check the path and its permissions`,
      { cause: err },
    );
  }
}
