/**
 * zipEntryLocal: where an entry's data lies, from its local file header, checked against the
 * central directory (the only source of names, sizes and CRCs berth trusts; APPNOTE.TXT 4.3.7):
 * the local header must carry the local signature, the same name bytes and the same compression
 * method, and must start at or after the end of the previous entry's data. Entries out of order
 * or overlapping (a zip bomb's trick: many entries sharing one block of data) and names that
 * differ between the two directories (a confusion attack: one tool extracts another name than
 * the one that was checked) make the archive corrupt. Go's archive/zip (reader.go, findBodyOffset)
 * reads the data offset the same way.
 */
import type { Entry } from 'yauzl';
import type { BlockWindow } from './zip-block-reader.js';

const LOCAL_HEADER = 30;
const LOCAL_SIGNATURE = 0x04034b50;

export interface ZipEntryLocal {
  /** Offset of the first byte of the entry's (compressed) data. */
  dataStart: number;
  /** Offset just after its last byte. */
  dataEnd: number;
}

/** Throws a plain Error saying what is wrong; the caller names the archive and entry. */
export async function zipEntryLocal(window: BlockWindow, entry: Entry, previousEnd: number): Promise<ZipEntryLocal> {
  const at = entry.relativeOffsetOfLocalHeader;
  if (at < previousEnd) {
    throw new Error(`its data starts at offset ${at}, inside the previous entry's (which ends at ${previousEnd}): entries out of order or overlapping`);
  }
  const nameLength = entry.fileNameRaw.length;
  const head = window.cached(at, LOCAL_HEADER + nameLength) ?? (await window.bytes(at, LOCAL_HEADER + nameLength));
  if (head.length < LOCAL_HEADER + nameLength) throw new Error('its local header is past the end of the file');
  if (head.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new Error(`no local file header signature at offset ${at}`);
  if (head.readUInt16LE(8) !== entry.compressionMethod) {
    throw new Error(`its local header says compression method ${head.readUInt16LE(8)}, the central directory ${entry.compressionMethod}`);
  }
  if (head.readUInt16LE(26) !== nameLength || !head.subarray(LOCAL_HEADER, LOCAL_HEADER + nameLength).equals(entry.fileNameRaw)) {
    throw new Error('its local header holds another name than the central directory');
  }
  const dataStart = at + LOCAL_HEADER + nameLength + head.readUInt16LE(28);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > window.size) throw new Error(`its data ends at offset ${dataEnd}, past the end of the file (${window.size} bytes)`);
  return { dataStart, dataEnd };
}
