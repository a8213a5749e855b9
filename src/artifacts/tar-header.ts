/**
 * tarHeader: the header blocks of one tar member (POSIX ustar, pax extended header when a field
 * does not fit): a name of more than 100 bytes is split at a `/` into ustar's prefix (155) and
 * name (100) fields, or else goes in a pax `path` record; a link target of more than 100 bytes
 * goes in `linkpath`; a size of 8 GiB or more in `size` (POSIX.1-2001 pax format, as Go's
 * archive/tar, which the Docker Engine extracts with, reads it: archive/tar/reader.go).
 * Owner and group are 0 (root), as tar-stream wrote them. Names are stored as UTF-8 bytes.
 */

export interface TarMemberHeader {
  /** Relative path, `/`-separated, without a trailing `/` (added for folders). */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits. */
  mode: number;
  mtime: Date;
  /** Bytes of content that follow (files only). */
  size: number;
  linkname?: string;
}

const BLOCK = 512;
const MAX_OCTAL_11 = 0o77777777777;
const TYPEFLAG = { file: '0', directory: '5', symlink: '2' } as const;

/** The header (and pax extended header) blocks of a member; a multiple of 512 bytes. */
export function tarHeader(h: TarMemberHeader): Buffer {
  const name = Buffer.from(h.type === 'directory' ? `${h.name}/` : h.name, 'utf8');
  const linkname = Buffer.from(h.linkname ?? '', 'utf8');
  const size = h.type === 'file' ? h.size : 0;
  const mtime = Math.max(0, Math.min(MAX_OCTAL_11, Math.floor(h.mtime.getTime() / 1000)));
  const pax: [string, Buffer][] = [];
  const split = splitName(name);
  if (!split) pax.push(['path', name]);
  if (linkname.length > 100) pax.push(['linkpath', linkname]);
  if (size > MAX_OCTAL_11) pax.push(['size', Buffer.from(String(size))]);

  const main = ustar({
    name: split ? split.name : name.subarray(0, 100),
    prefix: split ? split.prefix : Buffer.alloc(0),
    mode: h.mode,
    size: size > MAX_OCTAL_11 ? 0 : size,
    mtime,
    typeflag: TYPEFLAG[h.type],
    linkname: linkname.subarray(0, 100),
  });
  if (pax.length === 0) return main;
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxHead = ustar({
    name: Buffer.from('PaxHeader'),
    prefix: Buffer.alloc(0),
    mode: 0o644,
    size: records.length,
    mtime,
    typeflag: 'x',
    linkname: Buffer.alloc(0),
  });
  return Buffer.concat([paxHead, records, Buffer.alloc(padding(records.length)), main]);
}

/** Zero bytes that round `size` up to a whole block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end of an archive: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** ustar's name/prefix split: the name part at most 100 bytes, non-empty; the prefix at most 155. */
function splitName(name: Buffer): { name: Buffer; prefix: Buffer } | undefined {
  if (name.length <= 100) return { name, prefix: Buffer.alloc(0) };
  // A trailing `/` (a folder) stays in the name part.
  for (let i = name.lastIndexOf(0x2f, name.length - 2); i > 0; i = name.lastIndexOf(0x2f, i - 1)) {
    if (i > 155) continue;
    if (name.length - i - 1 > 100) return undefined;
    return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
  }
  return undefined;
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "<length> <key>=<value>\n", the length counting its own digits.
  const rest = Buffer.byteLength(key) + value.length + 3;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

interface UstarFields {
  name: Buffer;
  prefix: Buffer;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: Buffer;
}

function ustar(f: UstarFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  f.name.copy(b, 0);
  octal(b, 100, 8, f.mode & 0o7777);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b.write(f.typeflag, 156, 'latin1');
  f.linkname.copy(b, 157);
  b.write('ustar\u000000', 257, 'latin1');
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  f.prefix.copy(b, 345);
  // The checksum: the sum of all bytes, the checksum field counting as 8 spaces.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return b;
}

/** An octal number in a field of `width` bytes: width - 1 digits and a NUL. */
function octal(b: Buffer, at: number, width: number, n: number): void {
  b.write(`${n.toString(8).padStart(width - 1, '0')}\u0000`, at, 'latin1');
}
