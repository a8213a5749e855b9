/**
 * parseTarHeader / parsePaxRecords: one 512-byte tar header block as Go's archive/tar writes them
 * (the Docker Engine's GET archive, gitlab-runner's tar+zstd cache): ustar (name with its
 * `prefix`), GNU (`ustar  `, no prefix; numbers in base-256 when large), v7; the checksum is
 * checked (unsigned or signed sum, as Go's reader accepts). pax extended records (`x`, `g`) and
 * GNU long names (`L`, `K`) are parsed by the caller from the member's content with
 * parsePaxRecords / gnuLongName.
 */
import { BerthError } from '../shared/errors.js';

export const TAR_BLOCK = 512;

/**
 * A tar stream that is not a well-formed tar (a bad header, a cut, a refused kind). Its message
 * starts with the name the reader was given; the caller says which archive it was, and what to
 * do (a cache's corrupt-archive error, an artifact's archive error).
 */
export class TarFormatError extends BerthError {
  constructor(message: string) {
    super('archive_error', message);
  }
}

export interface RawTarHeader {
  name: string;
  /** The type flag character ('0', '5', 'x', ...; '\0' is an old-style file). */
  typeflag: string;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  size: number;
  linkname: string;
}

/** True when every byte of the block is 0 (the end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < TAR_BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The fields of a header block; a TarFormatError when its checksum or a number is wrong. */
export function parseTarHeader(block: Buffer, where: string): RawTarHeader {
  checkSum(block, where);
  const magic = block.toString('latin1', 257, 263);
  let name = text(block, 0, 100);
  // ustar ("ustar\0"): a prefix field; GNU ("ustar  \0") uses those bytes for other things.
  if (magic === 'ustar\0') {
    const prefix = text(block, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  return {
    name,
    typeflag: String.fromCharCode(block[156]!),
    mode: number(block, 100, 8, where, 'mode'),
    mtime: number(block, 136, 12, where, 'mtime'),
    size: number(block, 124, 12, where, 'size'),
    linkname: text(block, 157, 100),
  };
}

/**
 * pax extended header records ("<length> <key>=<value>\n"), as a map; a TarFormatError when a
 * record is malformed. Values are UTF-8.
 */
export function parsePaxRecords(data: Buffer, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space > at ? Number(data.toString('latin1', at, space)) : NaN;
    const end = at + length;
    if (!Number.isSafeInteger(length) || length <= 0 || end > data.length || data[end - 1] !== 0x0a) {
      throw new TarFormatError(`${where}: malformed pax extended header record at byte ${at}`);
    }
    const record = data.toString('utf8', space + 1, end - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new TarFormatError(`${where}: malformed pax extended header record at byte ${at}`);
    out.set(record.slice(0, eq), record.slice(eq + 1));
    at = end;
  }
  return out;
}

/** A GNU long name or link target (`L`/`K` content): the bytes up to the first NUL. */
export function gnuLongName(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul < 0 ? data.length : nul);
}

function text(block: Buffer, at: number, width: number): string {
  let end = at;
  const max = at + width;
  while (end < max && block[end] !== 0) end++;
  return block.toString('utf8', at, end);
}

/** An octal number (spaces and NULs around it allowed), or GNU base-256 (high bit of the first byte set). */
function number(block: Buffer, at: number, width: number, where: string, field: string): number {
  const first = block[at]!;
  if (first & 0x80) {
    if (first === 0xff) throw new TarFormatError(`${where}: negative ${field} in a tar header`);
    let v = first & 0x7f;
    for (let i = at + 1; i < at + width; i++) v = v * 256 + block[i]!;
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`${where}: ${field} too large in a tar header`);
    return v;
  }
  let i = at;
  const end = at + width;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`${where}: invalid tar header: its ${field} is not a number`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  for (; i < end; i++) {
    if (block[i] !== 0x20 && block[i] !== 0) throw new TarFormatError(`${where}: invalid tar header: its ${field} is not a number`);
  }
  return digits === 0 ? 0 : v;
}

function checkSum(block: Buffer, where: string): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const stored = number(block, 148, 8, where, 'checksum');
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`${where}: invalid tar header: its checksum does not match (the archive is corrupt or not a tar)`);
  }
}
