/**
 * How gitlab-runner words an error answer in its helpers' log lines (network/client.go
 * getMessageFromJSONResponse, ResponseError.Error; helpers/url CleanURL):
 *
 * - a JSON answer (GitLab's API) whose `message` is a string, or a map of lists (validation
 *   errors, rendered `key: a; b`): `POST https://gitlab.example.com/api/v4/jobs/42/artifacts:
 *   413 Request Entity Too Large (file size has reached maximum size limit)`, the URL without
 *   userinfo, query or fragment, the status text Go's (not the server's); the message is left out
 *   when it only repeats the status (`{"message":"413 Request Entity Too Large"}`);
 * - any other answer (a proxy's HTML, Workhorse's plain text): the status line as the server
 *   sent it, `413 Request Entity Too Large`.
 */
import { STATUS_CODES } from 'node:http';
import { isJson } from './gitlab-api-error.js';
import type { HttpResponse } from './http-transport.js';

/** Where Go's net/http StatusText differs from node's STATUS_CODES. */
const GO_STATUS_TEXT: Record<number, string> = {
  413: 'Request Entity Too Large',
  414: 'Request URI Too Long',
  416: 'Requested Range Not Satisfiable',
};

/** Go's `http.StatusText(status)`. */
export function goStatusText(status: number): string {
  return GO_STATUS_TEXT[status] ?? STATUS_CODES[status] ?? '';
}

/** Go's `res.Status`: the status line the server sent (`413 Request Entity Too Large`). */
export function responseStatusLine(res: HttpResponse): string {
  return `${res.status} ${res.statusText ?? goStatusText(res.status)}`.trim();
}

/** gitlab-runner's text for an answer to `method url` (see the file comment). */
export function goResponseText(method: string, url: URL, res: HttpResponse): string {
  if (res.status >= 200 && res.status <= 299) return responseStatusLine(res);
  const message = isJson(res) ? goErrorMessage(res.body) : undefined;
  if (message === undefined) return responseStatusLine(res);
  const statusText = `${res.status} ${goStatusText(res.status)}`;
  const head = `${method} ${url.origin}${url.pathname}: ${statusText}`;
  return message === statusText ? head : `${head} (${message})`;
}

/** ResponseError's `message`: undefined when the body is not a JSON object (Go's decode fails). */
function goErrorMessage(body: Buffer): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const msg = (json as { message?: unknown }).message;
  if (typeof msg === 'string') return msg.slice(0, 300);
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return '';
  const entries = Object.entries(msg as Record<string, unknown>);
  if (!entries.every(([, v]) => Array.isArray(v))) return '';
  return entries
    .map(([k, v]) => `${k}: ${(v as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('; ')}`)
    .join(', ')
    .slice(0, 300);
}
