/**
 * ArtifactsApi: the job artifacts half of GitLab's runner API, on the client's own transport
 * (ApiCaller: TLS CA file, User-Agent, X-Request-Id, keep-alive pool):
 *
 *   upload(job, req, log, signal)             POST jobs/:id/artifacts   (artifacts-upload.ts)
 *   download(url, dep, dest, log, signal)     GET  jobs/:depId/artifacts (artifacts-download.ts)
 *
 * Both stream files (never whole in memory) and do gitlab-runner's helper-level retries; waits
 * come from the injectable Clock. Get one from `GitLabClient.artifactsApi()`.
 */
import type { DependencySpec } from '../job/job-spec.js';
import type { JobLog } from '../log/job-log.js';
import type { ApiCaller } from './api-caller.js';
import type { ArrivingFile } from '../artifacts/arriving-file.js';
import { downloadArtifacts } from './artifacts-download.js';
import { type ArtifactUploadRequest, uploadArtifacts } from './artifacts-upload.js';
import { type Clock, systemClock } from './clock.js';
import type { JobRef } from './job-api.js';

export type { ArtifactUploadRequest } from './artifacts-upload.js';

export interface ArtifactsApiOptions {
  /** Waits between tries (tests inject an instant clock). */
  clock?: Clock;
  /** Bound of one upload try; default 1 h (`[runners.artifact] upload_timeout`, gitlab-runner common/consts.go). */
  uploadTimeoutMs?: number;
  /** Bound of one download try; default 1 h. */
  downloadTimeoutMs?: number;
  /**
   * Wait for an upload's response headers once it is sent; default 10 min (`[runners.artifact]
   * response_header_timeout`, which gitlab-runner gives its uploader only: downloads keep 10 min).
   */
  responseHeaderTimeoutMs?: number;
  /** FF_USE_DIRECT_DOWNLOAD: ask for `direct_download=true` on the first try (default true). */
  directDownload?: boolean;
}

const HOUR_MS = 3_600_000;
const HEADER_TIMEOUT_MS = 10 * 60_000;

export class ArtifactsApi {
  private readonly clock: Clock;
  private readonly uploadHeaderTimeoutMs: number;

  constructor(
    private readonly api: ApiCaller,
    private readonly opts: ArtifactsApiOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.uploadHeaderTimeoutMs = opts.responseHeaderTimeoutMs ?? HEADER_TIMEOUT_MS;
  }

  /** Uploads one archive for `job`; rejects with ArtifactUploadError (ArtifactTooLargeError on 413). */
  upload(job: JobRef, req: ArtifactUploadRequest, log: JobLog, signal: AbortSignal): Promise<void> {
    return uploadArtifacts(
      { api: this.api, clock: this.clock, timeoutMs: this.opts.uploadTimeoutMs ?? HOUR_MS, headerTimeoutMs: this.uploadHeaderTimeoutMs },
      job,
      req,
      log,
      signal,
    );
  }

  /**
   * Downloads the archive of `dep` from the GitLab at `url` into `dest` (created 0600, replaced);
   * rejects with ArtifactDownloadError, `dest` removed. `opts.arriving`: the caller reads the file
   * while it downloads (see ArrivingFile).
   */
  download(
    url: string,
    dep: DependencySpec,
    dest: string,
    log: JobLog,
    signal: AbortSignal,
    opts: { directDownload?: boolean; arriving?: ArrivingFile; meterMs?: number } = {},
  ): Promise<void> {
    const directDownload = opts.directDownload ?? this.opts.directDownload ?? true;
    return downloadArtifacts(
      {
        api: this.api,
        clock: this.clock,
        timeoutMs: this.opts.downloadTimeoutMs ?? HOUR_MS,
        headerTimeoutMs: HEADER_TIMEOUT_MS,
        directDownload,
        ...(opts.meterMs ? { meterMs: opts.meterMs } : {}),
      },
      url,
      dep,
      dest,
      log,
      signal,
      opts.arriving,
    );
  }
}
