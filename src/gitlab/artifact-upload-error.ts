/**
 * Why an artifacts upload failed, after the uploader's own retries (gitlab-runner
 * commands/helpers/artifacts_uploader.go: 403 → permission denied, 413 → too large, retries used
 * up → the last error). Messages name the artifact type, the job and what to do; never a token.
 */
import { BerthError } from '../shared/errors.js';

export type ArtifactUploadFailure = 'permission-denied' | 'too-large' | 'retries-exhausted' | 'unreadable';

export class ArtifactUploadError extends BerthError {
  constructor(
    message: string,
    readonly failure: ArtifactUploadFailure,
    /** The last HTTP status, -1 without an answer. */
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(failure === 'too-large' ? 'artifact_too_large' : 'artifact_upload_failed', message, options);
  }

  /** The uploader's FATAL line for a final answer (errTooLarge, os.ErrPermission); null after retries (its text is the last error's). */
  get helperFatal(): string | null {
    if (this.failure === 'too-large') return 'too large';
    if (this.failure === 'permission-denied') return 'permission denied';
    return null;
  }
}

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
