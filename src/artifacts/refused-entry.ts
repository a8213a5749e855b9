/** The errors of an archive berth refuses to extract before writing anything (inspectZip, inspectTarZstd). */
import { ArchiveError } from './archive-error.js';
import type { ZipArchiveKind } from './corrupt-zip.js';

/** One entry is unsafe: the whole archive is refused. */
export function refusedEntry(file: string, kind: ZipArchiveKind, name: string, reason: string): ArchiveError {
  return new ArchiveError(
    file,
    name,
    `refusing to extract the ${kind} archive ${file}: the entry ${JSON.stringify(name)} is unsafe (${reason}); nothing was extracted. ` +
      'Archive only files inside the project directory, without links that lead out of it',
  );
}

/** The archive has more entries than berth extracts; `count` says how many ("25000", "more than 1000"). */
export function tooManyEntries(file: string, kind: ZipArchiveKind, count: string, max: number): ArchiveError {
  return new ArchiveError(
    file,
    undefined,
    `refusing to extract the ${kind} archive ${file}: it has ${count} entries, more than the ${max} berth extracts; ` +
      'archive fewer files (a folder of many small files can be one tar or zip file inside the artifacts)',
  );
}

/**
 * Refuses an entry whose path is the path of a symbolic link stored elsewhere in the same archive
 * (`links`: path → index of the link), or goes through one (`a -> /etc`, then `a/passwd`).
 */
export function refuseThroughLinks(file: string, kind: ZipArchiveKind, name: string, path: string, index: number, links: ReadonlyMap<string, number>): void {
  const same = links.get(path);
  if (same !== undefined && same !== index) {
    throw refusedEntry(file, kind, name, 'it has the same path as a symbolic link stored in the same archive');
  }
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const parent = path.slice(0, i);
    if (links.has(parent)) {
      throw refusedEntry(file, kind, name, `its path goes through ${JSON.stringify(parent)}, a symbolic link stored in the same archive`);
    }
  }
}
