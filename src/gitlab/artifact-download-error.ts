/**
 * Why downloading a dependency's artifacts failed (gitlab-runner network/gitlab.go
 * DownloadArtifacts, commands/helpers/artifacts_downloader.go): 401/403 → permission denied and
 * 404 → file does not exist, both at once; anything else after the downloader's retries.
 */
import { BerthError } from '../shared/errors.js';

/** `truncated` and `failed` are retried; the others are final. */
export type ArtifactDownloadFailure = 'permission-denied' | 'not-found' | 'truncated' | 'failed' | 'retries-exhausted';

export class ArtifactDownloadError extends BerthError {
  constructor(
    message: string,
    readonly failure: ArtifactDownloadFailure,
    /** The last HTTP status, -1 without an answer. */
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super('artifact_download_failed', message, options);
  }

  /** The downloader's FATAL line (os.ErrNotExist, os.ErrPermission, else os.ErrInvalid after its retries). */
  get helperFatal(): string {
    if (this.failure === 'not-found') return 'file does not exist';
    if (this.failure === 'permission-denied') return 'permission denied';
    return 'invalid argument';
  }

  /** Worth another try (within the downloader's tries). */
  get retryable(): boolean {
    return this.failure === 'truncated' || this.failure === 'failed';
  }
}
