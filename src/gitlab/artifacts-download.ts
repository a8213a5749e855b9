/**
 * downloadArtifacts: a dependency's `archive` artifacts from `GET /api/v4/jobs/:id/artifacts`
 * into a local file, as gitlab-runner's artifacts-downloader does it
 * (commands/helpers/artifacts_downloader.go, network/gitlab.go DownloadArtifacts):
 *
 * - `JOB-TOKEN: <dependency token>` and one `X-Request-Id` per try; `?direct_download=true` on
 *   the first try only (when FF_USE_DIRECT_DOWNLOAD is on, the default: directDownloadFlag);
 * - 200 streams the body to the file (never held in memory), checked against Content-Length: a
 *   short body is an error (`... was truncated: got X of Y bytes`) and retried;
 * - 401/403 → permission denied and 404 → file does not exist, at once; anything else (and no
 *   answer) is retried: 2 extra tries, 1 s apart, each logging after its wait
 *   `WARNING: Retrying...  context=artifacts-downloader error=invalid argument`, gitlab-runner's
 *   error for every such try (artifacts_downloader.go download: DownloadFailed is
 *   retryableError{os.ErrInvalid}; retry_helper.go doRetry). The failure carries the text of the
 *   downloader's last line, `FATAL: <err>` (ArtifactDownloadError.helperFatal);
 * - under those tries, gitlab-runner's API-level retry (network/retry_requester.go): every GET
 *   but the first try's direct one (which gitlab-runner sends with a client of its own) sends
 *   408/429/500/502/503/504/>=512 again up to 5 times, waiting as `RateLimit-ResetTime` or
 *   `Retry-After` say, each wait logged (`Waiting before making the next call`).
 *
 * Requests. The direct GET follows no redirect. On 302/307 gitlab-runner logs
 * `Direct download from <host>`, then sends `jobs/:id/artifacts?direct_download=true` to GitLab a
 * second time and lets Go's http.Client follow the redirect, with the job token (two API requests,
 * then object storage). berth sends no second API request: it goes straight to the Location of
 * the first answer, WITHOUT the job token (object storage authenticates by its presigned URL). The
 * plain GET (later tries, or FF_USE_DIRECT_DOWNLOAD off) follows redirects in both. A relative
 * Location is resolved against the request's URL; the 10th redirect is not followed.
 *
 * Log lines (logrus runner format, runner-log-line.ts; the token only in its short form), with
 * `Downloading artifacts from coordinator...` as <P>:
 *
 * - direct GET (DownloadArtifacts' `directDownload` branch, artifactDownloadStateFromResponse,
 *   downloadArtifactFile): every line has the fields of GitLab's FIRST answer, `correlation_id`
 *   (its X-Request-Id, else the one sent), `id`, `status` (its code: 302 after a redirect, even
 *   when object storage then answers 200) and `token`, and no `host`:
 *   `Direct download from <host>` (a Location with a host), `<P> ok`, `ERROR: <P> not found`,
 *   `WARNING: <P> failed` (any other status, 3xx and 5xx included); `ERROR: <P> forbidden` and
 *   `ERROR: <P> unauthorized` with `status` replaced by the last answer's message
 *   (getMessageFromJSONOrXMLResponse: `GET <url>: 403 Forbidden (<message>)` for GitLab's JSON,
 *   `403 Forbidden (<Code>: <Message>)` for object storage's XML) or status line (`401
 *   Unauthorized`); `ERROR: <P> error` with `error=<err>` when a body stops short
 *   (`unexpected EOF`) or a request gets no answer (`Get "<url>": <reason>`, and nothing but
 *   `id` and `token` when GitLab itself did not answer; after the 302, the fallback GET's
 *   `execute raw request: execute request: couldn't execute GET against <GitLab URL>: Get
 *   "<url>": <reason>`);
 * - plain GET (DownloadArtifacts' standard path): the LAST answer's `correlation_id` (else the id
 *   sent), `host` (of the URL that answered, object storage after a redirect), `id`, `status`,
 *   `token`: `<P> ok`, `ERROR: <P> not found`, `ERROR: <P> forbidden` / `unauthorized` (status as
 *   above), `WARNING: <P> failed` with `status=<status line>` (`502 Bad Gateway`), `ERROR: <P>
 *   error` (`error=unexpected EOF`, a body cut short); with no answer `ERROR: <P> error <err>`
 *   (the error in the message) and only `correlation_id` (the id sent), `id`, `token`.
 *
 * Where berth cannot word Go's errors (net errors other than refused connections and timeouts,
 * JSON or XML bodies Go fails to decode), it says its own; an object storage URL is named without
 * its query (the presigned signature), which gitlab-runner prints.
 *
 * With an ArrivingFile, the archive's end is fetched with Range requests beside the body
 * (prefetchZipTail) and the file is told how far the body has come, so that the caller can
 * extract while it downloads; the file learns the outcome (finish or fail).
 *
 * The caller prints `Downloading artifacts for <name> (<id>)...` before. When this rejects, the
 * file is gone. */
import { rm, truncate } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { Writable } from 'node:stream';
import type { ArrivingFile } from '../artifacts/arriving-file.js';
import type { DependencySpec } from '../job/job-spec.js';
import type { JobLog } from '../log/job-log.js';
import { errorMessage } from '../shared/errors.js';
import type { ApiCall, ApiCaller, RetryWait } from './api-caller.js';
import { ArtifactDownloadError } from './artifact-download-error.js';
import type { Clock } from './clock.js';
import { FileSink } from '../artifacts/file-sink.js';
import { apiUrl, jsonMessage } from './gitlab-api-error.js';
import { goResponseText, goStatusText, responseStatusLine } from './go-response-text.js';
import { followLocation, goNetReason, goUrlError, newRequestId, rawRequestError, stripPassword } from './go-request-error.js';
import { header, type HttpResponse, HttpTransportError } from './http-transport.js';
import { logApiRetry, type LogFields, logRunnerLine } from './runner-log-line.js';
import { shortToken } from './short-token.js';
import { type MeteredTransfer, meterTransfer } from '../log/transfer-meter.js';
import { prefetchZipTail, type RangeGet } from '../artifacts/zip-tail-prefetch.js';

export interface DownloadDeps {
  api: ApiCaller;
  clock: Clock;
  /** Bound of the wait for GitLab's response headers once the request is sent. */
  headerTimeoutMs: number;
  /** Bound of one try. */
  timeoutMs: number;
  /** FF_USE_DIRECT_DOWNLOAD (default true). */
  directDownload: boolean;
  /** The period of the transfer meter's lines (TRANSFER_METER_FREQUENCY; 0 or none: off). */
  meterMs?: number;
  /** A try's X-Request-Id (default: a uuid without dashes, as network/gitlab.go NewCorrelationID). */
  requestId?: () => string;
}

/** The head of an answer. */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
}

export const DOWNLOAD_TRIES = 3;
const DOWNLOAD_RETRY_WAIT_MS = 1000;
/** Requests of one GET, redirects followed included (Go's defaultCheckRedirect: `stopped after 10 redirects`). */
const MAX_REQUESTS = 10;

export async function downloadArtifacts(
  deps: DownloadDeps,
  coordinatorUrl: string,
  dep: DependencySpec,
  dest: string,
  log: JobLog,
  signal: AbortSignal,
  arriving?: ArrivingFile,
): Promise<void> {
  const prefix = 'Downloading artifacts from coordinator...';
  const who = `artifacts of ${dep.name} (${dep.id})`;
  const token = shortToken(dep.token);
  // Ends the fetch of the archive's end with the download.
  const ahead = new AbortController();
  const stopAhead = (): void => ahead.abort();
  signal.addEventListener('abort', stopAhead, { once: true });
  let tailAsked = false;
  // The helper's meter wraps the file a try writes (artifacts_downloader.go); here it runs while a
  // body moves, and prints its last line before the try's own line (the file is closed first).
  let meter: MeteredTransfer | undefined;
  const closeMeter = (): void => {
    meter?.close();
    meter = undefined;
  };
  try {
    for (let tries = 1; ; tries++) {
      let err: ArtifactDownloadError;
      try {
        const size = await tryOnce(deps.directDownload && tries === 1);
        if (arriving) {
          // Written in place across tries: nothing of a longer earlier body may stay after the end.
          await truncate(dest, size);
          arriving.finish(size);
        }
        return;
      } catch (e) {
        if (signal.aborted || !(e instanceof ArtifactDownloadError) || !e.retryable) throw e;
        err = e;
      }
      if (tries >= DOWNLOAD_TRIES) {
        throw new ArtifactDownloadError(
          `Downloading ${who} failed after ${tries} tries: ${err.message}. Check that GitLab (and its object storage) is reachable, then retry the job`,
          'retries-exhausted',
          err.status,
          { cause: err },
        );
      }
      // retry_helper.go doRetry: the wait, then the line, with the try's error (os.ErrInvalid).
      await deps.clock.sleep(DOWNLOAD_RETRY_WAIT_MS, signal);
      logRunnerLine(log, 'warning', 'Retrying...', { context: 'artifacts-downloader', error: err.helperFatal });
    }
  } catch (err) {
    arriving?.fail(err instanceof Error ? err : new Error(String(err)));
    await rm(dest, { force: true });
    throw err;
  } finally {
    closeMeter();
    signal.removeEventListener('abort', stopAhead);
    ahead.abort();
  }

  /** Resolves with the archive's size. */
  async function tryOnce(direct: boolean): Promise<number> {
    const path = `jobs/${dep.id}/artifacts${direct ? '?direct_download=true' : ''}`;
    const sent = apiUrl(coordinatorUrl, path);
    // The URL gitlab-runner's errors name for GitLab: its plain GET asks for `jobs/:id/artifacts?` (the empty query keeps its `?`).
    const gitlabShown = `${shownUrl(sent, true)}${direct ? '' : '?'}`;
    // network/gitlab.go DownloadArtifacts (addCorrelationID): one X-Request-Id per try, the lines'
    // correlation_id when the answer has none (getCorrelationID).
    const requestId = (deps.requestId ?? newRequestId)();
    const gitlabHeaders = { 'JOB-TOKEN': dep.token, 'X-Request-Id': requestId };
    // The current exchange: its answer's head once it came, and its body when it answered 200.
    const body: { answer: Answer | undefined; sink: FileSink | undefined; expected: number | null } = { answer: undefined, sink: undefined, expected: null };
    /** The sink of an exchange; `again`: the same GET with a Range header, for the archive's end. */
    const takeBody =
      (again: RangeGet) =>
      (status: number, headers: IncomingHttpHeaders): FileSink | undefined => {
        body.answer = { status, headers };
        if (status !== 200) return undefined;
        body.expected = lengthOf(headers);
        const sink = (body.sink = new FileSink(dest, arriving));
        closeMeter();
        meter = meterTransfer(log, deps.meterMs ?? 0, 'Downloading artifacts', 0, () => sink.bytes);
        if (arriving && !tailAsked && body.expected !== null && header(headers, 'accept-ranges') !== 'none') {
          tailAsked = true;
          const size = body.expected;
          void prefetchZipTail(again, size).then((tail) => tail && arriving.setTail(size, tail));
        }
        return body.sink;
      };
    /** The host of the request in flight (the plain GET's `host` field: res.Request.URL.Host, after redirects). */
    let host = sent.host;
    /** GitLab's answer to the direct GET: every line of that try takes its fields from it. */
    let first: Answer | undefined;
    /**
     * The fields of a line about the answer `r`. Direct GET: GitLab's first answer's, whatever
     * came after (its X-Request-Id, its status: 302 after a redirect; no `host`). Plain GET: the
     * last answer's, with the host it came from.
     */
    const fieldsOf = (r: Answer): LogFields => {
      const from = direct ? (first ?? r) : r;
      const f: LogFields = { correlation_id: header(from.headers, 'x-request-id') || requestId, id: dep.id, status: from.status, token };
      if (!direct) f.host = host;
      return f;
    };
    const what = `Downloading artifacts of job ${dep.id}`;
    /** The GET of an exchange again, with a Range header (no retries of its own: a failure only skips the read-ahead). */
    const rangeGet =
      (exchange: Pick<ApiCall, 'path' | 'fullUrl' | 'headers'>): RangeGet =>
      (range, sink) =>
        deps.api.call({ method: 'GET', url: coordinatorUrl, ...exchange, headers: { ...exchange.headers, Range: range }, sink: rangeSink(sink), attempts: 1, signal: ahead.signal, what });
    let res = await send(gitlabShown, () =>
      deps.api.call({
        method: 'GET',
        url: coordinatorUrl,
        path,
        headers: gitlabHeaders,
        sink: takeBody(rangeGet({ path, headers: gitlabHeaders })),
        ...(direct ? { attempts: 1 } : { onRetry: (wait: RetryWait) => logApiRetry(log, 'GET', wait) }),
        timeoutMs: deps.timeoutMs,
        headerTimeoutMs: deps.headerTimeoutMs,
        signal,
        what,
      }),
    );
    if (direct) first = res;
    /** The URL that gave `res`. */
    let at = sent;
    // The direct GET follows no redirect (its CheckRedirect returns ErrUseLastResponse): 302 and
    // 307 lead to the Location; the plain GET follows every redirect, as Go's http.Client does.
    if (direct ? res.status === 302 || res.status === 307 : isRedirect(res.status)) {
      const raw = header(res.headers, 'location');
      // DownloadArtifacts: `Direct download from <host>` when the Location has a host.
      const named = raw && /^([a-z][a-z0-9+.-]*:)?\/\//i.test(raw) ? parseUrl(raw, at.href) : null;
      if (direct && named?.host) logRunnerLine(log, 'info', `Direct download from ${named.host}`, fieldsOf(res));
      // GitLab's answer is the first request of Go's chain; the 10th redirect is not followed (defaultCheckRedirect).
      for (let requests = 1; ; requests++) {
        const location = header(res.headers, 'location');
        // Without a Location, Go's http.Client returns the redirect as it is.
        if (!location) break;
        const next = followLocation(location, at);
        if (!next.ok) {
          noAnswer(next.at === sent ? gitlabShown : shownUrl(next.at, false), next.reason);
          throw new ArtifactDownloadError(`GitLab answered ${res.status} for the ${who} with an unusable Location`, 'failed', res.status);
        }
        if (requests >= MAX_REQUESTS) {
          noAnswer(shownUrl(next.url, false), `stopped after ${MAX_REQUESTS} redirects`);
          throw new ArtifactDownloadError(`the redirects for the ${who} did not end: stopped after ${MAX_REQUESTS} redirects`, 'failed', res.status);
        }
        // Object storage: the presigned Location carries its own authorization; the job token stays here.
        const target: URL = next.url;
        host = target.host;
        res = await send(shownUrl(target, false), () =>
          deps.api.call({
            method: 'GET',
            url: coordinatorUrl,
            path: 'object-storage',
            fullUrl: target,
            sink: takeBody(rangeGet({ path: 'object-storage', fullUrl: target })),
            onRetry: (wait) => logApiRetry(log, 'GET', wait, false),
            timeoutMs: deps.timeoutMs,
            headerTimeoutMs: deps.headerTimeoutMs,
            signal,
            what: `Downloading artifacts of job ${dep.id} from object storage`,
          }),
        );
        at = target;
        if (!isRedirect(res.status)) break;
      }
    }
    const fields = fieldsOf(res);
    const statusLine = responseStatusLine(res);
    const message = serverMessage(res);
    const detail = `${statusLine}${message && message !== statusLine ? `: ${message}` : ''}`;
    switch (res.status) {
      case 200: {
        closeMeter();
        const got = body.sink?.bytes ?? 0;
        if (body.expected !== null && got !== body.expected) {
          // downloadArtifactFile: io.Copy's error (Go's body reader ends a short body with io.ErrUnexpectedEOF).
          logRunnerLine(log, 'error', `${prefix} error`, { ...fields, error: 'unexpected EOF' });
          throw truncated(got, body.expected);
        }
        // downloadArtifactFile.
        logRunnerLine(log, 'info', `${prefix} ok`, fields);
        return got;
      }
      case 401:
      case 403:
        // artifactDownloadStateFromResponse (direct GET) and the plain GET's switch: `status` is
        // then res.Status (401) or getMessageFromJSONOrXMLResponse (403), of the last answer.
        logRunnerLine(log, 'error', `${prefix} ${res.status === 401 ? 'unauthorized' : 'forbidden'}`, {
          ...fields,
          status: res.status === 401 ? statusLine : goJsonOrXmlText('GET', at, res),
        });
        throw new ArtifactDownloadError(
          `Downloading ${who} failed: permission denied (${detail}). The job token was refused for them: ` +
            `${dep.name} may belong to a project this job cannot read, or the link to object storage has expired; retry the job`,
          'permission-denied',
          res.status,
        );
      case 404:
        logRunnerLine(log, 'error', `${prefix} not found`, fields);
        throw new ArtifactDownloadError(
          `Downloading ${who} failed: file does not exist (${detail}). The artifacts may have expired or been erased: ` +
            `run ${dep.name} again, or drop it from this job's dependencies (needs:artifacts:false)`,
          'not-found',
          404,
        );
      default:
        // The direct GET keeps GitLab's status; the plain GET's line says res.Status.
        logRunnerLine(log, 'warning', `${prefix} failed`, direct ? fields : { ...fields, status: statusLine });
        throw new ArtifactDownloadError(`GitLab answered ${detail} for the ${who}`, 'failed', res.status);
    }

    /** One exchange (`shown`: its URL in gitlab-runner's error); no answer (or a body cut short) is a retryable failure. */
    async function send(shown: string, call: () => Promise<HttpResponse>): Promise<HttpResponse> {
      body.answer = undefined;
      body.sink = undefined;
      body.expected = null;
      try {
        return await call();
      } catch (err) {
        if (signal.aborted) throw err;
        const answer = body.answer as Answer | undefined;
        closeMeter();
        if (answer) {
          // The answer came, its body did not: downloadArtifactFile's `error` line.
          logRunnerLine(log, 'error', `${prefix} error`, { ...fieldsOf(answer), error: bodyReadError(err) });
          const got = (body.sink as FileSink | undefined)?.received;
          if (got !== undefined && body.expected !== null && got < body.expected) throw truncated(got, body.expected, err);
        } else {
          noAnswer(shown, goNetReason(err));
        }
        throw new ArtifactDownloadError(`downloading the ${who} failed: ${errorMessage(err)}`, 'failed', -1, { cause: err });
      }
    }

    /**
     * The `error` line of a request that got no answer (Go's *url.Error for the URL `failed`):
     * the direct GET's own (`error=Get "<url>": <reason>`, no correlation_id: no answer); after its
     * 302, the fallback GET's (through network/gitlab.go doRaw, client.go do, retry_requester.go),
     * with GitLab's first answer's fields; the plain GET's puts it in the message, with the
     * X-Request-Id it sent.
     */
    function noAnswer(failed: string, reason: string): void {
      const urlError = goUrlError('GET', failed, reason);
      const raw = rawRequestError('GET', gitlabShown, urlError);
      if (direct && !first) logRunnerLine(log, 'error', `${prefix} error`, { error: urlError, id: dep.id, token });
      else if (direct) logRunnerLine(log, 'error', `${prefix} error`, { ...fieldsOf(first!), error: raw });
      else logRunnerLine(log, 'error', `${prefix} error ${raw}`, { correlation_id: requestId, id: dep.id, token });
    }
  }

  function truncated(got: number, expected: number, cause?: unknown): ArtifactDownloadError {
    return new ArtifactDownloadError(`download of ${who} was truncated: got ${got} of ${expected} bytes`, 'truncated', 200, cause ? { cause } : undefined);
  }
}

/** A RangeGet's sink as an exchange's ResponseSink. */
function rangeSink(sink: (status: number, contentRange: string | undefined) => Writable): (status: number, headers: IncomingHttpHeaders) => Writable {
  return (status, headers) => sink(status, header(headers, 'content-range'));
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** `location` resolved against `base` (as an HTTP client resolves a Location), null when it is no URL. */
function parseUrl(location: string, base: string): URL | null {
  try {
    return new URL(location, base);
  } catch {
    return null;
  }
}

/**
 * A URL as gitlab-runner's errors name it: a password as `***` (Go's stripPassword); an object
 * storage URL (`withQuery` false) without its query, which holds the presigned signature (berth
 * leaves it out of the job log, gitlab-runner prints it).
 */
function shownUrl(u: URL, withQuery: boolean): string {
  const c = new URL(u.href);
  if (!withQuery) c.search = '';
  c.hash = '';
  return stripPassword(c);
}

/**
 * io.Copy's error when an answer's body stops short (downloadArtifactFile): Go's body reader's
 * io.ErrUnexpectedEOF, or http.Client's timeout while reading the body.
 */
function bodyReadError(err: unknown): string {
  if (err instanceof HttpTransportError && err.kind === 'timeout') return 'context deadline exceeded (Client.Timeout or context cancellation while reading body)';
  return 'unexpected EOF';
}

/**
 * network/client.go getMessageFromJSONOrXMLResponse, the `status` of a 403 line: for a JSON
 * answer ResponseError.Error (`GET <url without query>: 403 Forbidden (<message>)`, see
 * go-response-text.ts), for an XML one (object storage) XMLResponseError.Error
 * (`403 Forbidden (<Code>: <Message>)`, just the status without a Code), else res.Status. A body
 * Go cannot decode gives `<res.Status> (<type> decode error: <err>)`: berth words an empty body
 * (`EOF`) and an XML root other than <Error> as Go does, other syntax errors as res.Status.
 */
function goJsonOrXmlText(method: string, url: URL, res: HttpResponse): string {
  const statusLine = responseStatusLine(res);
  if (res.status >= 200 && res.status <= 299) return statusLine;
  const type = mediaType(header(res.headers, 'content-type'));
  const text = res.body.toString('utf8');
  const decodeError = (kind: string, err: string): string => `${statusLine} (${type} decode error: decode ${kind} response: ${err})`;
  if (type === 'application/json') return text.trim() === '' ? decodeError('JSON', 'EOF') : goResponseText(method, url, res);
  if (type !== 'application/xml' && type !== 'text/xml') return statusLine;
  if (text.trim() === '') return decodeError('XML', 'EOF');
  const root = /^(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)*<([^\s/>!?]+)/i.exec(text);
  if (!root) return statusLine;
  const local = root[1]!.replace(/^[^:]*:/, '');
  if (local !== 'Error') return decodeError('XML', `expected element type <Error> but have <${local}>`);
  const code = xmlText(text, 'Code');
  const status = `${res.status} ${goStatusText(res.status)}`;
  return code ? `${status} (${code}: ${xmlText(text, 'Message')})` : status;
}

/** Go's mime.ParseMediaType, the media type only: lower case, undefined when there is none. */
function mediaType(contentType: string | undefined): string | undefined {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(t) ? t : undefined;
}

/** The character data of the first <name> element (entities and CDATA decoded, inner tags dropped). */
function xmlText(xml: string, name: string): string {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}\\s*>`).exec(xml);
  if (!m) return '';
  return m[1]!
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>|<[^>]*>|&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_all, cdata: string | undefined, entity: string | undefined) => {
      if (cdata !== undefined) return cdata;
      if (entity === undefined) return '';
      if (entity[0] === '#') {
        const cp = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : Number(entity.slice(1));
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      }
      return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[entity.toLowerCase()] ?? '';
    });
}

function lengthOf(headers: IncomingHttpHeaders): number | null {
  const v = header(headers, 'content-length');
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/** GitLab's JSON `message`, or object storage's XML `<Message>` (S3, GCS, Azure). */
function serverMessage(res: HttpResponse): string {
  const json = jsonMessage(res);
  if (json) return json;
  const m = /<Message>([^<]{1,300})<\/Message>/.exec(res.body.toString('utf8'));
  return m ? m[1]! : '';
}
