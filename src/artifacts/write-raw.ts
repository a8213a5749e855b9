/**
 * writeRaw: the raw format of GitLab's reports (sast, codequality, ...): exactly one file copied
 * as-is. More entries → `only one file can be sent as raw`, gitlab-runner's wording
 * (commands/helpers/archive/raw/raw_archiver.go, ErrTooManyRawFiles).
 */
import { errorMessage, isAbortError } from '../shared/errors.js';
import { abortReason } from '../shared/abort.js';
import { ArchiveError } from './archive-error.js';
import { ArchiveFileWriter } from './archive-file-writer.js';
import type { ArchiveStats } from './archive-stats.js';
import type { FileEntrySource } from './file-entry.js';

export async function writeRaw(entries: FileEntrySource, file: string, signal: AbortSignal): Promise<ArchiveStats> {
  const out = new ArchiveFileWriter(file, signal);
  let count = 0;
  let current: string | undefined;
  try {
    for await (const entry of entries) {
      if (signal.aborted) throw abortReason(signal);
      current = entry.path;
      count++;
      if (count > 1) {
        entry.body.resume();
        throw new ArchiveError(file, entry.path, 'only one file can be sent as raw');
      }
      if (entry.type !== 'file') {
        entry.body.resume();
        throw new ArchiveError(
          file,
          entry.path,
          `the ${JSON.stringify(entry.path)} is not a regular file: a raw report is one regular file; list that file in artifacts:reports`,
        );
      }
      await out.pipeFrom(entry.body);
    }
    return { entries: count, bytes: await out.finish() };
  } catch (err) {
    await out.discard();
    if (isAbortError(err) || err instanceof ArchiveError) throw err;
    const at = current === undefined ? '' : ` (at ${current})`;
    throw new ArchiveError(file, current, `could not write the raw report ${file}${at}: ${errorMessage(err)}`, { cause: err });
  }
}
