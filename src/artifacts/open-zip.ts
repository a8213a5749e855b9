/**
 * openZip: a zip file opened for reading its central directory one entry at a time (yauzl with
 * lazy entries, random access on the file: the archive is never held in memory). yauzl leaves
 * names undecoded (its own name checks fail without saying which entry or rule); callers decode
 * them with zipEntryName and check them with zipEntryPath. Every failure is an ArchiveError.
 */
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { errorMessage } from '../shared/errors.js';
import { ArchiveError } from './archive-error.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';

export async function openZip(file: string, kind: ZipArchiveKind): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(file, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new ArchiveError(file, undefined, `could not open the ${kind} archive ${file}: ${errorMessage(err)}`, { cause: err });
    }
    throw corruptZip(file, kind, undefined, err);
  }
}

/** The central directory's entries, in order; a read or format error is a corrupt archive. */
export async function* zipEntries(zip: ZipFile, file: string, kind: ZipArchiveKind): AsyncGenerator<Entry> {
  const it = zip.eachEntry();
  for (;;) {
    let next: IteratorResult<Entry>;
    try {
      next = await it.next();
    } catch (err) {
      throw corruptZip(file, kind, undefined, err);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** The entry's stored name: the Info-ZIP Unicode Path field, else UTF-8 (EFS flag) or CP437. */
export function zipEntryName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
}
