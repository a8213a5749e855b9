/**
 * The error of src/fs-guard: a path under a directory berth guards (the user's repository) that
 * berth refuses to read or write, because it is a link, leads outside, is not a regular file, or
 * is too large. An input error (exit 2): the repository, not berth, has to change.
 */
import { InputError } from '../shared/errors.js';

export type FsGuardReason = 'symlink' | 'outside' | 'not-directory' | 'not-regular' | 'hard-link' | 'too-large' | 'bad-path' | 'io';

export class FsGuardError extends InputError {
  readonly reason: FsGuardReason;
  /** The path that was refused (absolute). */
  readonly path: string;
  /** For `too-large`: the size seen (at least). */
  readonly size: number | undefined;
  /** For `not-regular`: what the file is instead ("a device", "a named pipe", ...). */
  readonly kind: string | undefined;

  constructor(reason: FsGuardReason, path: string, message: string, options?: { cause?: unknown; size?: number; kind?: string }) {
    super(message, { file: path }, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.path = path;
    this.size = options?.size;
    this.kind = options?.kind;
  }
}
