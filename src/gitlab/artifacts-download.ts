/**
 * downloadArtifacts: a dependency's `archive` artifacts from `GET /api/v4/jobs/:id/artifacts`
 * into a local file, as gitlab-runner's artifacts-downloader does it
 * (commands/helpers/artifacts_downloader.go, network/gitlab.go DownloadArtifacts):
 *
 * - `JOB-TOKEN: <dependency token>`; `?direct_download=true` on the first try only (when
 *   FF_USE_DIRECT_DOWNLOAD is on, the default); no redirect is followed blindly: a 302/307 logs
 *   `Direct download from <host>`, then the Location is fetched WITHOUT the job token (it goes to
 *   object storage, which authenticates by its presigned URL);
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
 * With an ArrivingFile, the archive's end is fetched with Range requests beside the body
 * (prefetchZipTail) and the file is told how far the body has come, so that the caller can
 * extract while it downloads; the file learns the outcome (finish or fail).
 *
 * The caller prints `Downloading artifacts for <name> (<id>)...` before. When this rejects, the
 * file is gone.
 */
import { rm, truncate } from 'node:fs/promises';
import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
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
import { header, type HttpResponse } from './http-transport.js';
import { logApiRetry, type LogFields, logRunnerLine } from './runner-log-line.js';
import { shortToken } from './short-token.js';
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
}

export const DOWNLOAD_TRIES = 3;
const DOWNLOAD_RETRY_WAIT_MS = 1000;
/** Redirects followed from object storage (Go's http.Client follows 10). */
const MAX_STORAGE_REDIRECTS = 10;

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
    signal.removeEventListener('abort', stopAhead);
    ahead.abort();
  }

  /** Resolves with the archive's size. */
  async function tryOnce(direct: boolean): Promise<number> {
    const path = `jobs/${dep.id}/artifacts${direct ? '?direct_download=true' : ''}`;
    // The body of the current exchange, when it answered 200.
    const body: { sink: FileSink | undefined; expected: number | null } = { sink: undefined, expected: null };
    /** The sink of an exchange; `again`: the same GET with a Range header, for the archive's end. */
    const takeBody =
      (again: RangeGet) =>
      (status: number, headers: IncomingHttpHeaders): FileSink | undefined => {
        if (status !== 200) return undefined;
        body.expected = lengthOf(headers);
        body.sink = new FileSink(dest, arriving);
        if (arriving && !tailAsked && body.expected !== null && header(headers, 'accept-ranges') !== 'none') {
          tailAsked = true;
          const size = body.expected;
          void prefetchZipTail(again, size).then((tail) => tail && arriving.setTail(size, tail));
        }
        return body.sink;
      };
    let host = new URL(coordinatorUrl).host;
    const what = `Downloading artifacts of job ${dep.id}`;
    /** The GET of an exchange again, with a Range header (no retries of its own: a failure only skips the read-ahead). */
    const rangeGet =
      (exchange: Pick<ApiCall, 'path' | 'fullUrl' | 'headers'>): RangeGet =>
      (range, sink) =>
        deps.api.call({ method: 'GET', url: coordinatorUrl, ...exchange, headers: { ...exchange.headers, Range: range }, sink: rangeSink(sink), attempts: 1, signal: ahead.signal, what });
    let res = await send(() =>
      deps.api.call({
        method: 'GET',
        url: coordinatorUrl,
        path,
        headers: { 'JOB-TOKEN': dep.token },
        sink: takeBody(rangeGet({ path, headers: { 'JOB-TOKEN': dep.token } })),
        ...(direct ? { attempts: 1 } : { onRetry: (wait: RetryWait) => logApiRetry(log, 'GET', wait) }),
        timeoutMs: deps.timeoutMs,
        headerTimeoutMs: deps.headerTimeoutMs,
        signal,
        what,
      }),
    );
    const fields = (r: HttpResponse): LogFields => {
      const f: LogFields = { host, id: dep.id, status: r.status, token };
      const correlation = header(r.headers, 'x-request-id');
      if (correlation) f.correlation_id = correlation;
      return f;
    };
    if (res.status === 302 || res.status === 307) {
      // Object storage: the presigned Location carries its own authorization; the job token stays here.
      // A relative Location is relative to the request's URL, as an HTTP client resolves it.
      const raw = header(res.headers, 'location');
      let location = storageUrl(raw, apiUrl(coordinatorUrl, path).href);
      if (!location) {
        logRunnerLine(log, 'warning', `${prefix} failed`, fields(res));
        throw new ArtifactDownloadError(`GitLab answered ${res.status} for the ${who} without a usable Location`, 'failed', res.status);
      }
      // gitlab-runner names the host only when the Location has one.
      if (/^([a-z][a-z0-9+.-]*:)?\/\//i.test(raw!)) log.println(`Direct download from ${location.host}`);
      for (let hop = 0; ; hop++) {
        const target: URL = location;
        host = target.host;
        res = await send(() =>
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
        const next: URL | null = isRedirect(res.status) ? storageUrl(header(res.headers, 'location'), target.href) : null;
        if (!next || hop >= MAX_STORAGE_REDIRECTS) break;
        location = next;
      }
    }
    const statusLine = `${res.status} ${res.statusText ?? STATUS_CODES[res.status] ?? ''}`.trim();
    const message = serverMessage(res);
    const detail = `${statusLine}${message && message !== statusLine ? `: ${message}` : ''}`;
    switch (res.status) {
      case 200: {
        const got = body.sink?.bytes ?? 0;
        if (body.expected !== null && got !== body.expected) throw truncated(got, body.expected);
        logRunnerLine(log, 'info', `${prefix} ok`, fields(res));
        return got;
      }
      case 401:
      case 403:
        logRunnerLine(log, 'error', `${prefix} ${res.status === 401 ? 'unauthorized' : 'forbidden'}`, fields(res));
        throw new ArtifactDownloadError(
          `Downloading ${who} failed: permission denied (${detail}). The job token was refused for them: ` +
            `${dep.name} may belong to a project this job cannot read, or the link to object storage has expired; retry the job`,
          'permission-denied',
          res.status,
        );
      case 404:
        logRunnerLine(log, 'error', `${prefix} not found`, fields(res));
        throw new ArtifactDownloadError(
          `Downloading ${who} failed: file does not exist (${detail}). The artifacts may have expired or been erased: ` +
            `run ${dep.name} again, or drop it from this job's dependencies (needs:artifacts:false)`,
          'not-found',
          404,
        );
      default:
        logRunnerLine(log, 'warning', `${prefix} failed`, fields(res));
        throw new ArtifactDownloadError(`GitLab answered ${detail} for the ${who}`, 'failed', res.status);
    }

    /** One exchange; no answer (or a body cut short) is a retryable failure. */
    async function send(call: () => Promise<HttpResponse>): Promise<HttpResponse> {
      body.sink = undefined;
      body.expected = null;
      try {
        return await call();
      } catch (err) {
        if (signal.aborted) throw err;
        const got = (body.sink as FileSink | undefined)?.received;
        if (got !== undefined && body.expected !== null && got < body.expected) throw truncated(got, body.expected, err);
        logRunnerLine(log, 'warning', `${prefix} failed`, { error: errorMessage(err), host, id: dep.id, token });
        throw new ArtifactDownloadError(`downloading the ${who} failed: ${errorMessage(err)}`, 'failed', -1, { cause: err });
      }
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

function storageUrl(location: string | undefined, base: string): URL | null {
  if (!location) return null;
  try {
    const u = new URL(location, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
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
