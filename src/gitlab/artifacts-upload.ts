/**
 * uploadArtifacts: one archive to `POST /api/v4/jobs/:id/artifacts`, as gitlab-runner's
 * artifacts-uploader does it (commands/helpers/artifacts_uploader.go, network/gitlab.go
 * UploadRawArtifacts / determineUploadState):
 *
 * - query `artifact_format`, `artifact_type`, `expire_in`, each only when non-empty (never form
 *   fields); headers `JOB-TOKEN`, `X-Request-Id`, `User-Agent` (ApiCaller); a multipart body with
 *   the one part `file`, built again for every try: streamed from a local file (Content-Length),
 *   or, as gitlab-runner does for the zip, made while it is sent (chunked) by a producer that
 *   re-archives for every try (network/gitlab.go createArtifactsContentProvider). A producer that
 *   fails on its own (the archive cannot be made) fails the upload at once, not retried;
 * - every try goes through the API-level retry of all of gitlab-runner's calls
 *   (network/retry_requester.go, ApiCaller): 408/429/500/502/503/504/>=512 are sent again up to
 *   5 times, waiting as `RateLimit-ResetTime` or `Retry-After` say (else 100 ms doubling), each
 *   wait logged as gitlab-runner's helper prints it (`Waiting before making the next call`);
 *   the body is made again for each of them. What that retry ends with is the try's answer:
 * - a 307 or 308 with a Location is followed at once, as Go's http.Client follows it for
 *   gitlab-runner (the whole URL, path and query; the body made again; no wait, no try counted,
 *   at most 10 in a row: network/client_test.go Test307and308Redirections); one without a
 *   usable Location is retried;
 * - 201 done; 403 and 413 fatal at once; 503 retried up to 6 tries; any other status or no answer up to 3 tries;
 *   waits of 1 s doubling, capped at 5 s (helpers/retry/retry.go); each retry logs
 *   `WARNING: Retrying...  context=artifacts-uploader error=<err>`.
 *
 * Log lines are the uploader's (logrus runner format, see runner-log-line.ts), with the job token
 * only in its short form.
 */
import type { JobLog } from '../log/job-log.js';
import { errorMessage } from '../shared/errors.js';
import type { ApiCaller } from './api-caller.js';
import { ArtifactTooLargeError, ArtifactUploadError, humanSize } from './artifact-upload-error.js';
import type { Clock } from './clock.js';
import { apiUrl, jsonMessage } from './gitlab-api-error.js';
import { goResponseText, responseStatusLine } from './go-response-text.js';
import { header, type HttpResponse, type StreamBody } from './http-transport.js';
import type { JobRef } from './job-api.js';
import { multipartFileBody } from './multipart-file-body.js';
import { type ArchiveProducer, type MultipartStreamBody, multipartStreamBody, type ProducerOutcome } from './multipart-stream-body.js';
import { logApiRetry, type LogFields, logRunnerLine } from './runner-log-line.js';
import { shortToken } from './short-token.js';

/** The archive: a file on local disk, or a producer that writes it into the request, once per try. */
export type ArtifactUploadRequest = ArtifactUploadTarget & ({ file: string; produce?: undefined } | { produce: ArchiveProducer; file?: undefined });

export interface ArtifactUploadTarget {
  /** The multipart file name: `artifacts.zip`, `junit.xml.gz`, `.env.gz`. */
  filename: string;
  /** The payload's `artifact_type` ('' sends none). */
  artifactType: string;
  /** The payload's `artifact_format` ('' sends none; GitLab then assumes zip). */
  artifactFormat: string;
  /** `expire_in`, expanded ('' sends none: the instance default). */
  expireIn: string;
}

export interface UploadDeps {
  api: ApiCaller;
  clock: Clock;
  /** Bound of the wait for GitLab's response headers once the request is sent. */
  headerTimeoutMs: number;
  /** Bound of one try (gitlab-runner's upload_timeout, 1 h). */
  timeoutMs: number;
}

const DEFAULT_TRIES = 3;
const SERVICE_UNAVAILABLE_TRIES = 6;

/** Wait before try `tries + 1`: 1 s, 2 s, 4 s, then 5 s. */
export function uploadBackoffMs(tries: number): number {
  return Math.min(1000 * 2 ** (tries - 1), 5000);
}

type TryOutcome = { kind: 'done' } | { kind: 'retry'; error: string; maxTries: number; status: number; detail: string };
type SendOutcome = TryOutcome | { kind: 'follow'; url: URL };

/** Go's http.Client: "stopped after 10 redirects". */
const MAX_REDIRECTS = 10;

export async function uploadArtifacts(deps: UploadDeps, job: JobRef, req: ArtifactUploadRequest, log: JobLog, signal: AbortSignal): Promise<void> {
  const prefix = req.artifactType ? `Uploading artifacts as "${req.artifactType}" to coordinator...` : 'Uploading artifacts to coordinator...';
  const what = req.artifactType ? `Uploading artifacts as "${req.artifactType}"` : 'Uploading artifacts';
  // Go's url.Values.Encode: keys sorted.
  const query = new URLSearchParams();
  if (req.artifactFormat) query.set('artifact_format', req.artifactFormat);
  if (req.artifactType) query.set('artifact_type', req.artifactType);
  if (req.expireIn) query.set('expire_in', req.expireIn);
  const qs = query.toString();
  const path = `jobs/${job.id}/artifacts${qs ? `?${qs}` : ''}`;
  const token = shortToken(job.token);
  for (let tries = 1; ; tries++) {
    const last = await tryOnce();
    if (last.kind === 'done') return;
    if (tries >= last.maxTries) {
      throw new ArtifactUploadError(
        `${what} of job ${job.id} to GitLab failed after ${tries} tries: ${last.detail}. ` +
          'Check that GitLab (and its object storage) is reachable and healthy, then retry the job',
        'retries-exhausted',
        last.status,
      );
    }
    logRunnerLine(log, 'warning', 'Retrying...', { context: 'artifacts-uploader', error: last.error });
    await deps.clock.sleep(uploadBackoffMs(tries), signal);
  }

  /** One try: the POST, and the redirects it is answered with, followed as Go's client follows them. */
  async function tryOnce(): Promise<TryOutcome> {
    let target: URL | null = null;
    for (let hops = 0; ; hops++) {
      const outcome = await send(target);
      if (outcome.kind !== 'follow') return outcome;
      if (hops + 1 > MAX_REDIRECTS) {
        const error = `POST ${outcome.url.toString()}: stopped after ${MAX_REDIRECTS} redirects`;
        logRunnerLine(log, 'error', `${prefix} error`, { error });
        return { kind: 'retry', error: 'invalid argument', maxTries: DEFAULT_TRIES, status: -1, detail: error };
      }
      target = outcome.url;
    }
  }

  async function send(redirected: URL | null): Promise<SendOutcome> {
    let body: { contentType: string; body: StreamBody; fileSize?: number };
    let stream: MultipartStreamBody | undefined;
    if (req.produce) {
      stream = multipartStreamBody(req.filename, req.produce, signal);
      body = stream;
    } else {
      try {
        body = await multipartFileBody(req.file, req.filename);
      } catch (err) {
        throw new ArtifactUploadError(`${what} of job ${job.id}: cannot read the archive ${req.file}: ${errorMessage(err)}`, 'unreadable', -1, { cause: err });
      }
    }
    let res: HttpResponse;
    let produced: ProducerOutcome | undefined;
    try {
      res = await deps.api.call({
        method: 'POST',
        url: job.url,
        path,
        ...(redirected ? { fullUrl: redirected } : {}),
        headers: { 'JOB-TOKEN': job.token },
        body: body.body,
        contentType: body.contentType,
        onRetry: (wait) => logApiRetry(log, 'POST', wait),
        timeoutMs: deps.timeoutMs,
        headerTimeoutMs: deps.headerTimeoutMs,
        signal,
        what: `${what} of job ${job.id}`,
      });
    } catch (err) {
      produced = await stream?.settle();
      if (produced?.kind === 'failed') throw produced.error;
      if (signal.aborted) throw err;
      logRunnerLine(log, 'error', `${prefix} error`, { error: errorMessage(err) });
      return { kind: 'retry', error: 'invalid argument', maxTries: DEFAULT_TRIES, status: -1, detail: errorMessage(err) };
    }
    // GitLab may answer before the whole archive was sent (413): the producer stops there.
    produced = await stream?.settle();
    if (produced?.kind === 'failed') throw produced.error;
    const archiveSize =
      produced === undefined ? humanSize(body.fileSize ?? 0) : produced.kind === 'complete' ? humanSize(produced.bytes) : `more than ${humanSize(produced.bytes)}`;
    const archiveBytes = produced === undefined ? (body.fileSize ?? 0) : produced.bytes;
    const fields: LogFields = { id: job.id, status: res.status, token };
    const correlation = header(res.headers, 'x-request-id');
    if (correlation) fields.correlation_id = correlation;
    const statusLine = responseStatusLine(res);
    // gitlab-runner's words: "POST <url without query>: <status> (<message>)" for GitLab's JSON, else the status line.
    const described = goResponseText('POST', redirected ?? apiUrl(job.url, path), res);
    // For berth's own error messages: the status and GitLab's message, when it says more.
    const message = jsonMessage(res);
    const brief = !message ? statusLine : message.startsWith(`${res.status} `) ? message : `${statusLine}: ${message}`;
    switch (res.status) {
      case 201:
        logRunnerLine(log, 'info', `${prefix} ${statusLine}`, fields);
        return { kind: 'done' };
      case 307:
      case 308: {
        const location = header(res.headers, 'location');
        const next = location ? safeUrl(location, (redirected ?? apiUrl(job.url, path)).toString()) : null;
        if (next) return { kind: 'follow', url: next };
        logRunnerLine(log, 'warning', `${prefix} ${described}`, fields);
        return { kind: 'retry', error: 'invalid argument', maxTries: DEFAULT_TRIES, status: res.status, detail: `${statusLine} without a usable Location` };
      }
      case 403:
        logRunnerLine(log, 'error', `${prefix} ${described}`, fields);
        throw new ArtifactUploadError(
          `${what} of job ${job.id} to GitLab failed: permission denied (${brief}). ` +
            'GitLab refused the job token: the job is no longer running on this runner (canceled, timed out or erased)',
          'permission-denied',
          403,
        );
      case 413:
        logRunnerLine(log, 'error', `${prefix} ${described}`, fields);
        throw new ArtifactTooLargeError(
          `${what} of job ${job.id} to GitLab failed: the archive ${req.filename} (${archiveSize}) is over GitLab's maximum artifacts size ` +
            `(${brief}). Upload less (narrow artifacts:paths or add artifacts:exclude), ` +
            "or ask a GitLab administrator to raise the instance's (or the project's) maximum artifacts size",
          archiveBytes,
        );
      case 503:
        logRunnerLine(log, 'error', `${prefix} ${described}`, fields);
        return { kind: 'retry', error: 'service unavailable', maxTries: SERVICE_UNAVAILABLE_TRIES, status: 503, detail: described };
      default:
        logRunnerLine(log, 'warning', `${prefix} ${described}`, fields);
        return { kind: 'retry', error: 'invalid argument', maxTries: DEFAULT_TRIES, status: res.status, detail: described };
    }
  }
}

function safeUrl(location: string, base: string): URL | null {
  try {
    const u = new URL(location, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
}
