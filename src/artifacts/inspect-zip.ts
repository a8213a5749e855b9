/**
 * inspectZip: reads a zip's WHOLE central directory and refuses the archive, before anything is
 * extracted, when one entry is unsafe: an absolute name, a `..` segment, a NUL byte (see
 * zipEntryPath), a path that goes through a symbolic link stored in the same archive (`a -> /etc`
 * then `a/passwd`) or that is the path of such a link, an encrypted entry, a compression method
 * other than store or Deflate, or more entries than `maxEntries`. gitlab-runner's extractors
 * have the same aim (helpers/archives/zip_extract.go; fastzip's chroot); berth checks everything
 * first, so a bad archive changes nothing in the project directory.
 *
 * Memory: the symbolic links of the archive, never its entries. When it has links, the central
 * directory is read a second time to check every path against them.
 */
import type { Entry } from 'yauzl';
import { ArchiveError } from './archive-error.js';
import type { ZipArchiveKind } from './corrupt-zip.js';
import { openZip, zipEntries, zipEntryName } from './open-zip.js';
import { zipEntryKind } from './zip-entry-kind.js';
import { zipEntryPath } from './zip-entry-path.js';

export const DEFAULT_MAX_ZIP_ENTRIES = 1_000_000;

export interface InspectZipOptions {
  kind: ZipArchiveKind;
  maxEntries: number;
  signal: AbortSignal;
}

export async function inspectZip(file: string, opts: InspectZipOptions): Promise<{ entries: number }> {
  const label = `the ${opts.kind} archive ${file}`;
  /** link path → its index in the central directory */
  const links = new Map<string, number>();
  const entries = await eachEntry(file, opts, (entry, name, path, index) => {
    if (entry.isEncrypted()) throw refused(file, label, name, 'it is encrypted');
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw refused(file, label, name, `it uses compression method ${entry.compressionMethod}; berth reads stored and Deflate entries only`);
    }
    if (path.path !== '' && zipEntryKind(entry, path.trailingSlash).type === 'symlink') links.set(path.path, index);
  });
  if (links.size === 0) return { entries };
  // A second look, now that every link is known (a link may come after the entries below it).
  await eachEntry(file, opts, (_entry, name, path, index) => {
    const same = links.get(path.path);
    if (same !== undefined && same !== index) {
      throw refused(file, label, name, 'it has the same path as a symbolic link stored in the same archive');
    }
    for (let i = path.path.indexOf('/'); i !== -1; i = path.path.indexOf('/', i + 1)) {
      const parent = path.path.slice(0, i);
      if (links.has(parent)) {
        throw refused(file, label, name, `its path goes through ${JSON.stringify(parent)}, a symbolic link stored in the same archive`);
      }
    }
  });
  return { entries };
}

/** Calls `check` for each entry with a safe name (refusing any other); returns the entry count. */
async function eachEntry(
  file: string,
  opts: InspectZipOptions,
  check: (entry: Entry, name: string, path: { path: string; trailingSlash: boolean }, index: number) => void,
): Promise<number> {
  const zip = await openZip(file, opts.kind);
  try {
    const label = `the ${opts.kind} archive ${file}`;
    if (zip.entryCount > opts.maxEntries) {
      throw new ArchiveError(
        file,
        undefined,
        `refusing to extract ${label}: it has ${zip.entryCount} entries, more than the ${opts.maxEntries} berth extracts; ` +
          'archive fewer files (a folder of many small files can be one tar or zip file inside the artifacts)',
      );
    }
    let index = 0;
    for await (const entry of zipEntries(zip, file, opts.kind)) {
      opts.signal.throwIfAborted();
      const name = zipEntryName(entry);
      const p = zipEntryPath(name);
      if (!p.ok) throw refused(file, label, name, p.reason);
      check(entry, name, p, index++);
    }
    return zip.entryCount;
  } finally {
    zip.close();
  }
}

function refused(file: string, label: string, name: string, reason: string): ArchiveError {
  return new ArchiveError(
    file,
    name,
    `refusing to extract ${label}: the entry ${JSON.stringify(name)} is unsafe (${reason}); nothing was extracted. ` +
      'Archive only files inside the project directory, without links that lead out of it',
  );
}
