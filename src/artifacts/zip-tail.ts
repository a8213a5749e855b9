/**
 * zipTailStart: where the part of a zip that is read before its entries begins (APPNOTE 4.3.16,
 * 4.3.14, 4.3.15): the central directory, the zip64 end records and the end record, found from
 * the archive's last bytes. An ArrivingFile's downloader fetches from there first.
 *
 * `bytes` are the archive's bytes from absolute offset `start` to its end. The answer is the
 * lowest offset known to be needed so far: when it is below `start`, fetch from there and ask
 * again (a zip64 end record names the central directory only once it is read). null when the
 * bytes hold no end record that makes sense: the reader then waits for the whole file. This only
 * decides what to fetch ahead; the zip reader checks the records themselves.
 */
const EOCD = 0x06054b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD = 0x06064b50;
const MAX_COMMENT = 0xffff;

export function zipTailStart(start: number, bytes: Buffer): number | null {
  const end = start + bytes.length;
  const at = (offset: number): number => offset - start;
  for (let p = bytes.length - EOCD_SIZE; p >= 0 && p >= bytes.length - EOCD_SIZE - MAX_COMMENT; p--) {
    if (bytes.readUInt32LE(p) !== EOCD || p + EOCD_SIZE + bytes.readUInt16LE(p + 20) !== bytes.length) continue;
    const entries = bytes.readUInt16LE(p + 10);
    const cdSize = bytes.readUInt32LE(p + 12);
    const cdOffset = bytes.readUInt32LE(p + 16);
    const eocd = start + p;
    if (entries !== 0xffff && cdSize !== 0xffffffff && cdOffset !== 0xffffffff) {
      return cdOffset + cdSize <= eocd ? cdOffset : null;
    }
    // zip64: the locator just before the end record names the zip64 end record.
    const locator = eocd - ZIP64_LOCATOR_SIZE;
    if (locator < start) return locator >= 0 ? locator : null;
    if (bytes.readUInt32LE(at(locator)) !== ZIP64_LOCATOR) return null;
    const record = Number(bytes.readBigUInt64LE(at(locator) + 8));
    if (!Number.isSafeInteger(record) || record > locator) return null;
    if (record < start) return record;
    if (record + 56 > end || bytes.readUInt32LE(at(record)) !== ZIP64_EOCD) return null;
    const cd64 = Number(bytes.readBigUInt64LE(at(record) + 48));
    return Number.isSafeInteger(cd64) && cd64 <= record ? cd64 : null;
  }
  return null;
}
