/**
 * HttpTransport: one HTTP exchange with GitLab over node:http / node:https, body fully read.
 *
 * Why not the global fetch: on Node 20 the built-in fetch cannot be given a CA certificate
 * (`tls-ca-file`) or separate header/body timeouts without the `undici` package; node:https
 * can, with no new dependency. Keep-alive sockets are pooled per transport; `close()` ends them.
 *
 * Timeouts: `timeoutMs` bounds the whole exchange (connect, headers, body). A caller's
 * AbortSignal ends it earlier. Either way the socket is destroyed and the promise rejects
 * with an HttpTransportError (never with a token in the message).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { BerthError, errorMessage } from '../shared/errors.js';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
  /** Overrides the transport's default timeout for this request. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpTransportOptions {
  /** PEM file with the CA certificates to trust for https (`tls-ca-file`). */
  tlsCaFile?: string;
  /** Default bound for one exchange. */
  timeoutMs: number;
  /** Largest response body accepted (a job payload is a few KiB; default 32 MiB). */
  maxResponseBytes?: number;
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
  private readonly maxResponseBytes: number;

  constructor(private readonly opts: HttpTransportOptions) {
    const ca = opts.tlsCaFile ? readCa(opts.tlsCaFile) : undefined;
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: 16, minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) });
    this.maxResponseBytes = opts.maxResponseBytes ?? 32 * 1024 * 1024;
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs;
    const where = `${req.method} ${req.url.origin}${req.url.pathname}`;
    if (req.signal?.aborted) {
      return Promise.reject(new HttpTransportError(`${where}: aborted`, 'aborted', { cause: req.signal.reason }));
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      const isHttps = req.url.protocol === 'https:';
      const headers: Record<string, string> = { ...req.headers };
      if (req.body) headers['Content-Length'] = String(req.body.length);
      const r = (isHttps ? httpsRequest : httpRequest)(req.url, { method: req.method, headers, agent: isHttps ? this.https : this.http });
      let settled = false;
      const fail = (err: HttpTransportError): void => {
        if (settled) return;
        settled = true;
        cleanup();
        r.destroy();
        reject(err);
      };
      r.on('error', (err) => fail(new HttpTransportError(`${where}: ${errorMessage(err)}`, 'network', { cause: err })));
      const timer = setTimeout(
        () => fail(new HttpTransportError(`${where}: no complete answer within ${timeoutMs} ms`, 'timeout')),
        timeoutMs,
      );
      const onAbort = (): void => fail(new HttpTransportError(`${where}: aborted`, 'aborted', { cause: req.signal?.reason }));
      const cleanup = (): void => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
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
        res.on('end', () => {
          if (settled) return;
          settled = true;
          cleanup();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      r.end(req.body);
    });
  }

  /** Closes pooled sockets. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
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
