/**
 * inspectZip: reads a zip's WHOLE central directory and refuses the archive, before anything is
 * extracted, when one entry is unsafe: an absolute name, a `..` segment, a NUL byte (see
 * zipEntryPath), a path that goes through a symbolic link stored in the same archive (`a -> /etc`
 * then `a/passwd`), an encrypted entry, a compression method other than store or Deflate, or more
 * entries than `maxEntries`. gitlab-runner's extractors have the same aim (helpers/archives/
 * zip_extract.go; fastzip's chroot); berth checks everything first, so a bad archive changes
 * nothing in the project directory.
 *
 * Memory: the set of symbolic links and the set of folders that entries sit in; never the entries.
 */
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
    /** link path → its stored name */
    const links = new Map<string, string>();
    /** folder path an entry sits in → the stored name of the first such entry */
    const parents = new Map<string, string>();
    for await (const entry of zipEntries(zip, file, opts.kind)) {
      opts.signal.throwIfAborted();
      const name = zipEntryName(entry);
      const p = zipEntryPath(name);
      if (!p.ok) throw refused(file, label, name, p.reason);
      if (entry.isEncrypted()) throw refused(file, label, name, 'it is encrypted');
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        throw refused(file, label, name, `it uses compression method ${entry.compressionMethod}; berth reads stored and Deflate entries only`);
      }
      if (p.path === '') continue;
      if (zipEntryKind(entry, p.trailingSlash).type === 'symlink') links.set(p.path, name);
      for (let i = p.path.indexOf('/'); i !== -1; i = p.path.indexOf('/', i + 1)) {
        const parent = p.path.slice(0, i);
        if (!parents.has(parent)) parents.set(parent, name);
      }
    }
    for (const [link, linkName] of links) {
      const through = parents.get(link);
      if (through !== undefined) {
        throw refused(file, label, through, `its path goes through ${JSON.stringify(linkName)}, a symbolic link stored in the same archive`);
      }
    }
    return { entries: zip.entryCount };
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
