/** The error for a zip that cannot be read: bad signature, CRC mismatch, short file, ... */
import { errorMessage } from '../shared/errors.js';
import { ArchiveError } from './archive-error.js';

/** Which archive a zip is, for messages: a dependency's artifacts or a cache. */
export type ZipArchiveKind = 'artifacts' | 'cache';

export function corruptZip(file: string, kind: ZipArchiveKind, entry: string | undefined, cause: unknown): ArchiveError {
  const at = entry === undefined ? '' : ` (entry ${JSON.stringify(entry)})`;
  const advice =
    kind === 'cache' ? 'the next job that saves this cache will replace it' : 'run the job that produced it again to upload a new one';
  return new ArchiveError(file, entry, `the ${kind} archive ${file} is corrupt or truncated${at}: ${errorMessage(cause)}; ${advice}`, {
    cause,
  });
}
