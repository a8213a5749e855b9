/**
 * The byte layout of a zip archive (PKWARE APPNOTE 6.3.x) as berth writes it: local file
 * headers, data descriptors, central directory records and the end records, with Zip64 where a
 * size, an offset or the entry count needs it, UTF-8 names (flag bit 11), unix modes in the
 * external attributes (as Go's archive/zip and gitlab-runner's archivers write them) and the
 * modification time both as MS-DOS time and in the extended-timestamp field (0x5455).
 */

export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const MADE_BY_UNIX = 3 << 8;
const U32 = 0xffffffff;
const U16 = 0xffff;

/** What the central directory needs to know about one written entry. */
export interface ZipRecord {
  name: Buffer;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
  /** st_mode (type and permission bits). */
  mode: number;
  mtime: Date;
  dataDescriptor: boolean;
  directory: boolean;
}

function dosDateTime(d: Date): { time: number; date: number } {
  const year = d.getFullYear();
  if (year < 1980) return { time: 0, date: (1 << 5) | 1 };
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((Math.min(year, 2107) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

function unixSeconds(d: Date): number {
  const s = Math.floor(d.getTime() / 1000);
  return Math.min(Math.max(s, 0), U32);
}

/** The extended-timestamp field (0x5455, modification time only) at `at`; 9 bytes. */
function putTimestampExtra(b: Buffer, at: number, d: Date): number {
  b.writeUInt16LE(0x5455, at);
  b.writeUInt16LE(5, at + 2);
  b[at + 4] = 1; // modification time present
  b.writeUInt32LE(unixSeconds(d), at + 5);
  return at + 9;
}
const TIMESTAMP_EXTRA = 9;

/** The Zip64 extended information field holding `values` at `at`. */
function putZip64Extra(b: Buffer, at: number, values: readonly number[]): number {
  if (values.length === 0) return at;
  b.writeUInt16LE(0x0001, at);
  b.writeUInt16LE(8 * values.length, at + 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), at + 4 + 8 * i));
  return at + 4 + 8 * values.length;
}

function zip64ExtraLength(values: readonly number[]): number {
  return values.length === 0 ? 0 : 4 + 8 * values.length;
}

/**
 * The local file header. With a data descriptor the CRC and sizes follow the data (zero here);
 * `zip64` (a file whose size may pass 4 GiB) puts both sizes in a Zip64 field. One buffer per
 * header (thousands of small files: no parts joined).
 */
export function localHeader(r: Omit<ZipRecord, 'offset'>, zip64: boolean): Buffer {
  const { time, date } = dosDateTime(r.mtime);
  const big = zip64 ? [r.dataDescriptor ? 0 : r.size, r.dataDescriptor ? 0 : r.compressedSize] : [];
  const extraLength = zip64ExtraLength(big) + TIMESTAMP_EXTRA;
  const h = Buffer.allocUnsafe(30 + r.name.length + extraLength);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(FLAG_UTF8 | (r.dataDescriptor ? FLAG_DATA_DESCRIPTOR : 0), 6);
  h.writeUInt16LE(r.method, 8);
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  h.writeUInt32LE(r.dataDescriptor ? 0 : r.crc >>> 0, 14);
  h.writeUInt32LE(zip64 ? U32 : r.dataDescriptor ? 0 : r.compressedSize, 18);
  h.writeUInt32LE(zip64 ? U32 : r.dataDescriptor ? 0 : r.size, 22);
  h.writeUInt16LE(r.name.length, 26);
  h.writeUInt16LE(extraLength, 28);
  r.name.copy(h, 30);
  putTimestampExtra(h, putZip64Extra(h, 30 + r.name.length, big), r.mtime);
  return h;
}

/** The data descriptor after streamed data (8-byte sizes for a Zip64 entry). */
export function dataDescriptor(crc: number, compressedSize: number, size: number, zip64: boolean): Buffer {
  const b = Buffer.alloc(zip64 ? 24 : 16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(crc >>> 0, 4);
  if (zip64) {
    b.writeBigUInt64LE(BigInt(compressedSize), 8);
    b.writeBigUInt64LE(BigInt(size), 16);
  } else {
    b.writeUInt32LE(compressedSize, 8);
    b.writeUInt32LE(size, 12);
  }
  return b;
}

export function centralRecord(r: ZipRecord): Buffer {
  const { time, date } = dosDateTime(r.mtime);
  const big: number[] = [];
  if (r.size >= U32) big.push(r.size);
  if (r.compressedSize >= U32) big.push(r.compressedSize);
  if (r.offset >= U32) big.push(r.offset);
  const zip64 = big.length > 0;
  const extraLength = zip64ExtraLength(big) + TIMESTAMP_EXTRA;
  const h = Buffer.allocUnsafe(46 + r.name.length + extraLength);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(MADE_BY_UNIX | (zip64 ? 45 : 20), 4);
  h.writeUInt16LE(zip64 ? 45 : 20, 6);
  h.writeUInt16LE(FLAG_UTF8 | (r.dataDescriptor ? FLAG_DATA_DESCRIPTOR : 0), 8);
  h.writeUInt16LE(r.method, 10);
  h.writeUInt16LE(time, 12);
  h.writeUInt16LE(date, 14);
  h.writeUInt32LE(r.crc >>> 0, 16);
  h.writeUInt32LE(r.compressedSize >= U32 ? U32 : r.compressedSize, 20);
  h.writeUInt32LE(r.size >= U32 ? U32 : r.size, 24);
  h.writeUInt16LE(r.name.length, 28);
  h.writeUInt16LE(extraLength, 30);
  h.writeUInt16LE(0, 32); // comment
  h.writeUInt16LE(0, 34); // disk
  h.writeUInt16LE(0, 36); // internal attributes
  h.writeUInt32LE((((r.mode & 0xffff) << 16) | (r.directory ? 0x10 : 0)) >>> 0, 38);
  h.writeUInt32LE(r.offset >= U32 ? U32 : r.offset, 42);
  r.name.copy(h, 46);
  putTimestampExtra(h, putZip64Extra(h, 46 + r.name.length, big), r.mtime);
  return h;
}

/** The end records: Zip64 end and locator when needed, then the classic end record. */
export function endRecords(count: number, cdOffset: number, cdSize: number): Buffer {
  const zip64 = count >= U16 || cdOffset >= U32 || cdSize >= U32;
  const parts: Buffer[] = [];
  if (zip64) {
    const e = Buffer.alloc(56);
    e.writeUInt32LE(0x06064b50, 0);
    e.writeBigUInt64LE(44n, 4);
    e.writeUInt16LE(MADE_BY_UNIX | 45, 12);
    e.writeUInt16LE(45, 14);
    e.writeUInt32LE(0, 16);
    e.writeUInt32LE(0, 20);
    e.writeBigUInt64LE(BigInt(count), 24);
    e.writeBigUInt64LE(BigInt(count), 32);
    e.writeBigUInt64LE(BigInt(cdSize), 40);
    e.writeBigUInt64LE(BigInt(cdOffset), 48);
    const l = Buffer.alloc(20);
    l.writeUInt32LE(0x07064b50, 0);
    l.writeUInt32LE(0, 4);
    l.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    l.writeUInt32LE(1, 16);
    parts.push(e, l);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(zip64 ? U16 : count, 8);
  end.writeUInt16LE(zip64 ? U16 : count, 10);
  end.writeUInt32LE(zip64 ? U32 : cdSize, 12);
  end.writeUInt32LE(zip64 ? U32 : cdOffset, 16);
  end.writeUInt16LE(0, 20);
  parts.push(end);
  return Buffer.concat(parts);
}
