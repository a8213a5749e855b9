/**
 * How gitlab-runner's helpers word a request that got no usable answer (the artifacts uploader
 * and downloader share these): Go's *url.Error, gitlab-runner's wrapping of it, Go's words for
 * the network failure, Go's checks of a redirect's Location, and the X-Request-Id it sends.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../shared/errors.js';
import { HttpTransportError } from './http-transport.js';

/** network/gitlab.go NewCorrelationID: a uuid without dashes (one X-Request-Id per try). */
export function newRequestId(): string {
  return randomUUID().replaceAll('-', '');
}

/** Go's stripPassword: the URL with a password shown as `***`. */
export function stripPassword(u: URL): string {
  if (!u.password) return u.href;
  const c = new URL(u.href);
  c.password = '***';
  return c.href;
}

/** Go's *url.Error text for `method` on `url` (as shown): `Post "<url>": <reason>`. */
export function goUrlError(method: string, url: string, reason: string): string {
  const op = method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
  return `${op} ${JSON.stringify(url)}: ${reason}`;
}

/**
 * gitlab-runner's error for an API request that got no answer: `urlError` wrapped by
 * network/retry_requester.go executeRequestWithRetries, network/client.go do and
 * network/gitlab.go doRaw, naming the URL it was sent to (`sent`, as shown).
 */
export function rawRequestError(method: string, sent: string, urlError: string): string {
  return `execute raw request: execute request: couldn't execute ${method} against ${sent}: ${urlError}`;
}

/** Where a redirect leads (Go's http.Client), or why it cannot be followed and on which URL it failed. */
export type LocationOutcome = { ok: true; url: URL } | { ok: false; at: URL; reason: string };

/**
 * A redirect's Location resolved against the URL that answered (`base`), as Go's http.Client
 * does: Client.do refuses one it cannot parse (`failed to parse Location header %q: %v`, berth's
 * parser's verdict, not Go's url.Parse words), http.Transport one that is not http(s).
 */
export function followLocation(location: string, base: URL): LocationOutcome {
  let next: URL;
  try {
    next = new URL(location, base.href);
  } catch {
    return { ok: false, at: base, reason: `failed to parse Location header ${JSON.stringify(location)}: parse ${JSON.stringify(location)}: invalid URL` };
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    return { ok: false, at: next, reason: `unsupported protocol scheme ${JSON.stringify(next.protocol.slice(0, -1))}` };
  }
  return { ok: true, url: next };
}

/**
 * Go's net/http words for why an exchange got no answer, where berth can tell them (connection
 * refused, closed before answering, the response header timeout, the client's timeout); else
 * berth's own words for the cause.
 */
export function goNetReason(err: unknown): string {
  if (err instanceof HttpTransportError && err.kind === 'timeout') {
    // http.Transport.ResponseHeaderTimeout, else http.Client.Timeout.
    return /no response headers within/.test(err.message) ? 'net/http: timeout awaiting response headers' : 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
  }
  const cause = (err instanceof HttpTransportError ? err.cause : err) as NodeJS.ErrnoException & { address?: string; port?: number; errors?: unknown[] };
  const first = (Array.isArray(cause?.errors) ? cause.errors[0] : cause) as { address?: string; port?: number } | undefined;
  if (cause?.code === 'ECONNREFUSED' && first?.address !== undefined && first.port !== undefined) {
    return `dial tcp ${first.address.includes(':') ? `[${first.address}]` : first.address}:${first.port}: connect: connection refused`;
  }
  if (cause?.code === 'ECONNRESET' && cause.message === 'socket hang up') return 'EOF';
  return errorMessage(cause ?? err);
}
