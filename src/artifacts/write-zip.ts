/**
 * writeZip: FileEntries → a zip file, streamed (an entry's body is never held in memory).
 *
 * The layout follows gitlab-runner's zip archivers (helpers/archives/zip_create.go, and
 * saracen/fastzip behind commands/helpers/archive/fastzip/zip_fastzip_archiver.go): folders as
 * `name/`, symbolic links stored as links (S_IFLNK in the unix mode of the external attributes,
 * the target as content, as Go's archive/zip does), files with their mode and mtime, UTF-8 names
 * (the EFS flag). Pipes, sockets and devices are skipped, as zip_create.go does ("File ignored").
 */
import { ZipFile } from 'yazl';
import type { Readable } from 'node:stream';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished, pipeline } from 'node:stream/promises';
import { errorMessage, isAbortError } from '../shared/errors.js';
import { abortReason } from '../shared/abort.js';
import { ArchiveError } from './archive-error.js';
import type { ArchiveStats } from './archive-stats.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';
import { permissionBits, S_IFDIR, S_IFLNK, S_IFREG } from './unix-mode.js';

export interface WriteZipOptions {
  /** 0 = store, 1-9 = Deflate level (see compressionLevel). */
  level: number;
  signal: AbortSignal;
  /** Told about each entry that is not a file, folder or link (skipped). */
  onIgnored?: (path: string) => void;
}

export async function writeZip(entries: FileEntrySource, file: string, opts: WriteZipOptions): Promise<ArchiveStats> {
  const { signal } = opts;
  if (!Number.isInteger(opts.level) || opts.level < 0 || opts.level > 9) {
    throw new RangeError(`zip compression level must be an integer from 0 to 9, got ${opts.level}`);
  }
  const zip = new ZipFile();
  const out = createWriteStream(file, { mode: 0o600 });
  const written = pipeline(zip.outputStream, out, { signal });
  // The first failure of the archive (yazl's own, such as a body of the wrong size, or the
  // file's); it also wakes the wait for the current body.
  let failure: Error | undefined;
  let wake: ((err: Error) => void) | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    wake?.(err);
  };
  zip.on('error', (err: Error) => {
    (zip.outputStream as Readable).destroy(err);
    fail(err);
  });
  written.catch(fail);

  const bodyRead = (body: Readable): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      wake = reject;
      finished(body).then(resolve, reject);
    }).finally(() => (wake = undefined));

  let count = 0;
  let current = '';
  try {
    for await (const entry of entries) {
      if (signal.aborted) throw abortReason(signal);
      if (failure) throw failure;
      current = entry.path;
      if (entry.type !== 'file') entry.body.resume();
      if (add(zip, entry, opts)) count++;
      // The source hands out the next entry only once this body is consumed (file-entry.ts):
      // wait for yazl to read it to its end, or for the archive to fail.
      if (entry.type === 'file') await bodyRead(entry.body);
    }
    // `current` stays: yazl reports a body of the wrong size once it has read it, after the loop.
    zip.end();
    await written;
    if (failure) throw failure;
    return { entries: count, bytes: out.bytesWritten };
  } catch (err) {
    (zip.outputStream as Readable).destroy();
    out.destroy();
    await rm(file, { force: true }).catch(() => undefined);
    if (isAbortError(err) || err instanceof ArchiveError) throw err;
    const what = current === '' ? '' : ` (at ${current})`;
    throw new ArchiveError(file, current || undefined, `could not write the zip archive ${file}${what}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Adds one entry; false when it is of a type a zip does not carry. */
function add(zip: ZipFile, entry: FileEntry, opts: WriteZipOptions): boolean {
  const perm = permissionBits(entry.mode);
  switch (entry.type) {
    case 'directory':
      zip.addEmptyDirectory(entry.path, { mode: S_IFDIR | perm, mtime: entry.mtime });
      return true;
    case 'symlink':
      zip.addBuffer(Buffer.from(entry.linkTarget, 'utf8'), entry.path, {
        mode: S_IFLNK | (perm || 0o777),
        mtime: entry.mtime,
        compressionLevel: 0,
      });
      return true;
    case 'file':
      zip.addReadStream(entry.body, entry.path, {
        mode: S_IFREG | perm,
        mtime: entry.mtime,
        size: entry.size,
        compressionLevel: opts.level,
      });
      return true;
    default:
      opts.onIgnored?.(entry.path);
      return false;
  }
}
