/**
 * inspectZip: reads a zip's WHOLE central directory and refuses the archive, before anything is
 * extracted, when one entry is unsafe: an absolute name, a `..` segment, a NUL byte (see
 * zipEntryPath), a path that goes through a symbolic link stored in the same archive (`a -> /etc`
 * then `a/passwd`) or that is the path of such a link, an encrypted entry, a compression method
 * other than store, Deflate or Zstandard, or more entries than `maxEntries`. gitlab-runner's extractors
 * have the same aim (helpers/archives/zip_extract.go; fastzip's chroot); berth checks everything
 * first, so a bad archive changes nothing in the project directory.
 *
 * Memory: the symbolic links of the archive, never its entries. When it has links, the central
 * directory is read a second time to check every path against them.
 */
import type { Entry } from 'yauzl';
import type { ZipArchiveKind } from './corrupt-zip.js';
import { openZip, zipEntries, zipEntryName, zipOn } from './open-zip.js';
import type { ZipBlockReader } from './zip-block-reader.js';
import { zipEntryKind } from './zip-entry-kind.js';
import { ZSTD } from './read-zip-entry.js';
import { zipEntryPath } from './zip-entry-path.js';
import { refusedEntry, refuseThroughLinks, tooManyEntries } from './refused-entry.js';

export const DEFAULT_MAX_ZIP_ENTRIES = 1_000_000;

export interface InspectZipOptions {
  kind: ZipArchiveKind;
  /** Whether entries of method 93 (Zstandard) are read (see ZipToTarOptions.zstd). */
  zstd?: boolean;
  maxEntries: number;
  signal: AbortSignal;
  /** The zip already open (ZipToTar reads what it checked from it); else `file` is opened. */
  reader?: ZipBlockReader;
}

export async function inspectZip(file: string, opts: InspectZipOptions): Promise<{ entries: number }> {
  /** link path → its index in the central directory */
  const links = new Map<string, number>();
  const entries = await eachEntry(file, opts, (entry, name, path, index) => {
    if (entry.isEncrypted()) throw refusedEntry(file, opts.kind, name, 'it is encrypted');
    if (entry.compressionMethod === ZSTD && !opts.zstd) {
      throw refusedEntry(file, opts.kind, name, `it uses compression method 93 (Zstandard), which berth reads only in caches from a runner's own cache folder or bucket`);
    }
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8 && entry.compressionMethod !== ZSTD) {
      throw refusedEntry(file, opts.kind, name, `it uses compression method ${entry.compressionMethod}; berth reads stored, Deflate and Zstandard (93) entries only`);
    }
    if (path.path !== '' && zipEntryKind(entry, path.trailingSlash).type === 'symlink') links.set(path.path, index);
  });
  if (links.size === 0) return { entries };
  // A second look, now that every link is known (a link may come after the entries below it).
  await eachEntry(file, opts, (_entry, name, path, index) => {
    refuseThroughLinks(file, opts.kind, name, path.path, index, links);
  });
  return { entries };
}

/** Calls `check` for each entry with a safe name (refusing any other); returns the entry count. */
async function eachEntry(
  file: string,
  opts: InspectZipOptions,
  check: (entry: Entry, name: string, path: { path: string; trailingSlash: boolean }, index: number) => void,
): Promise<number> {
  const zip = opts.reader ? await zipOn(opts.reader, file, opts.kind) : await openZip(file, opts.kind);
  try {
    if (zip.entryCount > opts.maxEntries) throw tooManyEntries(file, opts.kind, String(zip.entryCount), opts.maxEntries);
    let index = 0;
    for await (const entry of zipEntries(zip, file, opts.kind)) {
      opts.signal.throwIfAborted();
      const name = zipEntryName(entry);
      const p = zipEntryPath(name);
      if (!p.ok) throw refusedEntry(file, opts.kind, name, p.reason);
      check(entry, name, p, index++);
    }
    return zip.entryCount;
  } finally {
    zip.close();
  }
}
