/**
 * Why an artifacts upload failed, after the uploader's own retries (gitlab-runner
 * commands/helpers/artifacts_uploader.go: 403 → permission denied, 413 → too large, retries used
 * up → the last error). Messages name the artifact type, the job and what to do; never a token.
 *
 * Also gitlab-runner's own words for a try that failed, which its uploader prints in
 * `Retrying...  error=<err>` and, after the last try, `FATAL: <err>` (logrus.Fatalln in
 * ArtifactsUploaderCommand.Execute).
 */
import { BerthError } from '../shared/errors.js';

export type ArtifactUploadFailure = 'permission-denied' | 'too-large' | 'retries-exhausted' | 'unreadable';

export class ArtifactUploadError extends BerthError {
  /**
   * The text of gitlab-runner's last `FATAL: <err>` (artifacts_uploader.go Execute): errTooLarge,
   * os.ErrPermission, or after the retries the last try's error (`helperError`); null for
   * berth's own failures (an archive it cannot read).
   */
  readonly helperFatal: string | null;

  constructor(
    message: string,
    readonly failure: ArtifactUploadFailure,
    /** The last HTTP status, -1 without an answer. */
    readonly status: number,
    options?: { cause?: unknown; helperError?: string },
  ) {
    super(failure === 'too-large' ? 'artifact_too_large' : 'artifact_upload_failed', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.helperFatal = failure === 'too-large' ? 'too large' : failure === 'permission-denied' ? 'permission denied' : (options?.helperError ?? null);
  }
}

/** artifacts_uploader.go Run: UploadFailed without an error (any status but 201, 403, 413 and 503). */
export const UPLOAD_FAILED = 'upload failed with no response from coordinator';
/** artifacts_uploader.go errServiceUnavailable (503): six tries instead of three. */
export const SERVICE_UNAVAILABLE = 'service unavailable';

/** 413: the archive is over the instance's (or project's) maximum artifacts size. */
export class ArtifactTooLargeError extends ArtifactUploadError {
  constructor(
    message: string,
    /** Bytes of the archive that was refused. */
    readonly size: number,
  ) {
    super(message, 'too-large', 413);
  }
}

/** 1536 → "1.5 KiB". */
export function humanSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${units[i]}`;
}
