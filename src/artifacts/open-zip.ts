/**
 * openZip: a zip file opened for reading its central directory one entry at a time (yauzl with
 * lazy entries, random access on the file through a ZipBlockReader's window of one block: the
 * archive is never held in memory, and the central directory costs a few large reads). yauzl leaves
 * names undecoded (its own name checks fail without saying which entry or rule); callers decode
 * them with zipEntryName and check them with zipEntryPath. Every failure is an ArchiveError.
 */
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { errorMessage } from '../shared/errors.js';
import { ArchiveError } from './archive-error.js';
import type { ArrivingFile } from './arriving-file.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';
import { ZipBlockReader } from './zip-block-reader.js';

export async function openZip(file: string, kind: ZipArchiveKind): Promise<ZipFile> {
  return (await openZipReader(file, kind)).zip;
}

/** openZip, with the reader under it (its file descriptor and size, for reading entries' data). */
export async function openZipReader(file: string, kind: ZipArchiveKind, arriving?: ArrivingFile): Promise<{ zip: ZipFile; reader: ZipBlockReader }> {
  let reader: ZipBlockReader;
  try {
    reader = await ZipBlockReader.open(file, arriving);
  } catch (err) {
    throw new ArchiveError(file, undefined, `could not open the ${kind} archive ${file}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    return { zip: await zipOn(reader, file, kind), reader };
  } catch (err) {
    reader.close(() => undefined);
    throw err;
  }
}

/**
 * Another reading of the central directory of a zip already open in `reader` (the same file, even
 * if its path was replaced since). The reader stays open while any ZipFile on it is (yauzl counts
 * them); on failure it is left to its owner.
 */
export async function zipOn(reader: ZipBlockReader, file: string, kind: ZipArchiveKind): Promise<ZipFile> {
  try {
    return await yauzl.fromRandomAccessReaderPromise(reader, reader.size, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch (err) {
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
