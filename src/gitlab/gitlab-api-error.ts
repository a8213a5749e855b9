/**
 * GitLabApiError (a call got an answer GitLab's contract does not allow for success) and the
 * small helpers every call shares: the API base URL and JSON content checks.
 */
import { BerthError } from '../shared/errors.js';
import { header, type HttpResponse } from './http-transport.js';

export class GitLabApiError extends BerthError {
  readonly status: number;
  /** GitLab's X-Request-Id for this call, for support requests. */
  readonly correlationId: string | undefined;

  constructor(message: string, res: HttpResponse, url: string) {
    super('gitlab_api_error', `${message} [${safeOrigin(url)}]`);
    this.status = res.status;
    this.correlationId = header(res.headers, 'x-request-id');
  }
}

/**
 * `<url>/api/v4/<path>`: trailing slashes and one trailing `/ci` are removed from the
 * configured URL first, as gitlab-runner does (`https://gitlab.example.com/ci/` works too).
 */
export function apiUrl(base: string, path: string): URL {
  let root = base.replace(/\/+$/, '');
  if (root.endsWith('/ci')) root = root.slice(0, -3);
  return new URL(`${root}/api/v4/${path}`);
}

export function isJson(res: HttpResponse): boolean {
  const type = header(res.headers, 'content-type') ?? '';
  return /^application\/json\b/i.test(type.trim());
}

/** GitLab's `{"message": ...}` (string or validation map) as one line, if any. */
export function jsonMessage(res: HttpResponse): string {
  if (!isJson(res)) return '';
  try {
    const body = JSON.parse(res.body.toString('utf8')) as { message?: unknown; error?: unknown };
    const msg = body.message ?? body.error;
    if (msg === undefined) return '';
    return (typeof msg === 'string' ? msg : JSON.stringify(msg)).slice(0, 300);
  } catch {
    return '';
  }
}

/** Scheme, host and path of the configured URL, never its credentials or query. */
function safeOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return 'invalid URL';
  }
}
