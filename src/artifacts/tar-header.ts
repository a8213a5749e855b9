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
  const nameText = h.type === 'directory' ? `${h.name}/` : h.name;
  const linkText = h.linkname ?? '';
  const size = h.type === 'file' ? h.size : 0;
  const mtime = Math.max(0, Math.min(MAX_OCTAL_11, Math.floor(h.mtime.getTime() / 1000)));
  const typeflag = TYPEFLAG[h.type];
  // The common case (short names, sizes below 8 GiB): one block, the strings written in place.
  if (nameText.length <= 100 && linkText.length <= 100 && size <= MAX_OCTAL_11) {
    const nameLength = Buffer.byteLength(nameText);
    if (nameLength <= 100 && Buffer.byteLength(linkText) <= 100) {
      return ustar({ name: nameText, prefix: '', mode: h.mode, size, mtime, typeflag, linkname: linkText });
    }
  }
  const name = Buffer.from(nameText, 'utf8');
  const linkname = Buffer.from(linkText, 'utf8');
  const pax: [string, Buffer][] = [];
  const split = splitName(name);
  if (!split) pax.push(['path', name]);
  if (linkname.length > 100) pax.push(['linkpath', linkname]);
  if (size > MAX_OCTAL_11) pax.push(['size', Buffer.from(String(size))]);

  const main = ustar({
    name: split ? split.name : name.subarray(0, 100),
    prefix: split ? split.prefix : '',
    mode: h.mode,
    size: size > MAX_OCTAL_11 ? 0 : size,
    mtime,
    typeflag,
    linkname: linkname.subarray(0, 100),
  });
  if (pax.length === 0) return main;
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxHead = ustar({ name: 'PaxHeader', prefix: '', mode: 0o644, size: records.length, mtime, typeflag: 'x', linkname: '' });
  return Buffer.concat([paxHead, records, Buffer.alloc(padding(records.length)), main]);
}

/** Zero bytes that round `size` up to a whole block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end of an archive: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** Longest symbolic link target berth extracts (Linux PATH_MAX). */
export const MAX_LINK_TARGET = 4096;

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
  name: string | Buffer;
  prefix: string | Buffer;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string | Buffer;
}

let template: Buffer | undefined;

/** The fields every header shares: uid, gid, magic, version, devmajor, devminor. */
function headerTemplate(): Buffer {
  if (template) return template;
  const b = Buffer.alloc(BLOCK);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  b.write('ustar\u000000', 257, 'latin1');
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  template = b;
  return b;
}

function ustar(f: UstarFields): Buffer {
  const b = Buffer.allocUnsafe(BLOCK);
  headerTemplate().copy(b);
  put(b, 0, f.name);
  octal(b, 100, 8, f.mode & 0o7777);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b[156] = f.typeflag.charCodeAt(0);
  put(b, 157, f.linkname);
  put(b, 345, f.prefix);
  // The checksum: the sum of all bytes, the checksum field counting as 8 spaces.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  octal(b, 148, 7, sum);
  b[155] = 0x20;
  return b;
}

function put(b: Buffer, at: number, v: string | Buffer): void {
  if (typeof v === 'string') b.write(v, at, 'utf8');
  else v.copy(b, at);
}

/** An octal number in a field of `width` bytes: width - 1 digits and a NUL. */
function octal(b: Buffer, at: number, width: number, n: number): void {
  let i = at + width - 1;
  b[i] = 0;
  for (let v = n; i > at; v = Math.floor(v / 8)) b[--i] = 0x30 + (v % 8);
}
