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
 *   gitlab-runner (the whole URL, path and query; the body made again; no wait, no try counted:
 *   network/client_test.go Test307and308Redirections), the 10th in a row not (Go's
 *   defaultCheckRedirect: "stopped after 10 redirects"), nor one it cannot follow: both end the
 *   try without an answer. Without a Location the answer is the try's (Go returns it as it is);
 * - 201 done; 403 and 413 fatal at once; 503 retried up to 6 tries; any other status or no answer up to 3 tries;
 *   waits of 1 s doubling, capped at 5 s (helpers/retry/retry.go); each retry logs
 *   `WARNING: Retrying...  context=artifacts-uploader error=<err>` with gitlab-runner's error
 *   (artifacts_uploader.go Run), which the failure carries for its `FATAL: <err>` line.
 *
 * Log lines are the uploader's (logrus runner format, see runner-log-line.ts), with the job token
 * only in its short form; one X-Request-Id per try, as UploadRawArtifacts sends it
 * (addCorrelationID), is the lines' correlation_id when GitLab's answer has none
 * (getCorrelationID).
 */
import type { JobLog } from '../log/job-log.js';
import { errorMessage } from '../shared/errors.js';
import type { ApiCaller } from './api-caller.js';
import { ArtifactTooLargeError, ArtifactUploadError, humanSize, SERVICE_UNAVAILABLE, UPLOAD_FAILED } from './artifact-upload-error.js';
import { followLocation, goNetReason, goUrlError, newRequestId, rawRequestError, stripPassword } from './go-request-error.js';
import type { Clock } from './clock.js';
import { apiUrl, jsonMessage } from './gitlab-api-error.js';
import { goResponseText, responseStatusLine } from './go-response-text.js';
import { header, type HttpResponse, type StreamBody } from './http-transport.js';
import type { JobRef } from './job-api.js';
import { multipartFileBody } from './multipart-file-body.js';
import { type ArchiveProducer, type MultipartStreamBody, multipartStreamBody, type ProducerOutcome } from './multipart-stream-body.js';
import { logApiRetry, type LogFields, logRunnerLine } from './runner-log-line.js';
import { meterTransfer } from '../log/transfer-meter.js';
import { shortToken } from './short-token.js';

/**
 * The archive: a file on local disk, or a producer that writes it into the request, once per try.
 * `meterMs`: the period of the transfer meter's lines (TRANSFER_METER_FREQUENCY; 0 or none: off).
 */
export type ArtifactUploadRequest = ArtifactUploadTarget & { meterMs?: number } & ({ file: string; produce?: undefined } | { produce: ArchiveProducer; file?: undefined });

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
  /** A try's X-Request-Id (default: a uuid without dashes, as network/gitlab.go NewCorrelationID). */
  requestId?: () => string;
}

const DEFAULT_TRIES = 3;
const SERVICE_UNAVAILABLE_TRIES = 6;

/** Wait before try `tries + 1`: 1 s, 2 s, 4 s, then 5 s. */
export function uploadBackoffMs(tries: number): number {
  return Math.min(1000 * 2 ** (tries - 1), 5000);
}

/** `error`: gitlab-runner's; `detail`: berth's, for its failure message. */
type TryOutcome = { kind: 'done' } | { kind: 'retry'; error: string; maxTries: number; status: number; detail: string };
/** `location`: the header as sent (Go's error names it so). */
type SendOutcome = TryOutcome | { kind: 'follow'; url: URL; location: string };

/** Go's defaultCheckRedirect: the 10th redirect in a row is not followed. */
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
  // The URL gitlab-runner's errors name: always with its `?` (UploadRawArtifacts: "jobs/%d/artifacts?%s").
  const sentUrl = apiUrl(job.url, `jobs/${job.id}/artifacts?${qs}`);
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
        { helperError: last.error },
      );
    }
    // helpers/retry/retry.go WithLogrus: the check logs the try's error, then the backoff.
    logRunnerLine(log, 'warning', 'Retrying...', { context: 'artifacts-uploader', error: last.error });
    await deps.clock.sleep(uploadBackoffMs(tries), signal);
  }

  /** One try: the POST, and the redirects it is answered with, followed as Go's client follows them. */
  async function tryOnce(): Promise<TryOutcome> {
    const requestId = (deps.requestId ?? newRequestId)();
    let target: URL | null = null;
    for (let hops = 1; ; hops++) {
      const outcome = await send(target, requestId);
      if (outcome.kind !== 'follow') return outcome;
      if (hops >= MAX_REDIRECTS) {
        const reason = `stopped after ${MAX_REDIRECTS} redirects`;
        return noAnswer(requestId, outcome.location, reason, `POST ${outcome.url.toString()}: ${reason}`);
      }
      target = outcome.url;
    }
  }

  /**
   * A try without an answer: network/gitlab.go UploadRawArtifacts logs
   * `<prefix> error  error=<err>` and returns UploadFailed with the error, retried as is.
   */
  function noAnswer(requestId: string, failed: URL | string, reason: string, detail: string): TryOutcome {
    const error = rawRequestError('POST', stripPassword(sentUrl), goUrlError('POST', typeof failed === 'string' ? failed : stripPassword(failed), reason));
    logRunnerLine(log, 'error', `${prefix} error`, { correlation_id: requestId, error, id: job.id, token });
    return { kind: 'retry', error, maxTries: DEFAULT_TRIES, status: -1, detail };
  }

  async function send(redirected: URL | null, requestId: string): Promise<SendOutcome> {
    let body: { contentType: string; body: StreamBody; fileSize?: number; sent(): number };
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
    // The helper's meter wraps the archive it sends (artifacts_uploader.go): one per request, its last line once the request has ended.
    const meter = meterTransfer(log, req.meterMs ?? 0, 'Uploading artifacts', 0, () => body.sent());
    try {
      res = await deps.api.call({
        method: 'POST',
        url: job.url,
        path,
        ...(redirected ? { fullUrl: redirected } : {}),
        headers: { 'JOB-TOKEN': job.token, 'X-Request-Id': requestId },
        body: body.body,
        contentType: body.contentType,
        onRetry: (wait) => logApiRetry(log, 'POST', wait),
        timeoutMs: deps.timeoutMs,
        headerTimeoutMs: deps.headerTimeoutMs,
        signal,
        what: `${what} of job ${job.id}`,
      });
    } catch (err) {
      meter.close();
      produced = await stream?.settle();
      if (produced?.kind === 'failed') throw produced.error;
      if (signal.aborted) throw err;
      return noAnswer(requestId, redirected ?? sentUrl, goNetReason(err), errorMessage(err));
    }
    meter.close();
    // GitLab may answer before the whole archive was sent (413): the producer stops there.
    produced = await stream?.settle();
    if (produced?.kind === 'failed') throw produced.error;
    const archiveSize =
      produced === undefined ? humanSize(body.fileSize ?? 0) : produced.kind === 'complete' ? humanSize(produced.bytes) : `more than ${humanSize(produced.bytes)}`;
    const archiveBytes = produced === undefined ? (body.fileSize ?? 0) : produced.bytes;
    const fields: LogFields = { correlation_id: header(res.headers, 'x-request-id') || requestId, id: job.id, status: res.status, token };
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
        if (location) {
          const next = followLocation(location, redirected ?? sentUrl);
          if (!next.ok) return noAnswer(requestId, next.at, next.reason, `${statusLine} with an unusable Location`);
          return { kind: 'follow', url: next.url, location };
        }
        // network/gitlab.go determineUploadState: a 307 is handleUploadRedirectionState's error ("empty location"), a 308 any other status's warning.
        if (res.status === 307) logRunnerLine(log, 'error', `${prefix} ${described} empty location`, fields);
        else logRunnerLine(log, 'warning', `${prefix} ${described}`, fields);
        return { kind: 'retry', error: UPLOAD_FAILED, maxTries: DEFAULT_TRIES, status: res.status, detail: `${statusLine} without a Location` };
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
        return { kind: 'retry', error: SERVICE_UNAVAILABLE, maxTries: SERVICE_UNAVAILABLE_TRIES, status: 503, detail: described };
      default:
        logRunnerLine(log, 'warning', `${prefix} ${described}`, fields);
        return { kind: 'retry', error: UPLOAD_FAILED, maxTries: DEFAULT_TRIES, status: res.status, detail: described };
    }
  }
}
