/**
 * The error of the archive formats (zip, gzip, raw, tar): an archive berth refuses to extract
 * (an unsafe or corrupt zip) or could not write. The message names the archive file and, when
 * one is to blame, the entry.
 */
import { BerthError } from '../shared/errors.js';

export class ArchiveError extends BerthError {
  /** The archive file on berth's host. */
  readonly archive: string;
  /** The entry (or project file) at fault, as stored; undefined when the whole archive is. */
  readonly entry: string | undefined;

  constructor(archive: string, entry: string | undefined, message: string, options?: { cause?: unknown }) {
    super('archive_error', message, options);
    this.archive = archive;
    this.entry = entry;
  }
}
