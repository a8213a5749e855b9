/**
 * zipEntryKind: what a zip entry is (file, folder, symbolic link, other) and its permission bits,
 * read as Go's archive/zip reads them (archive/zip struct.go, FileHeader.Mode): the unix mode in
 * the high 16 bits of the external attributes when the entry was made on unix or macOS, else the
 * MS-DOS attributes (folder bit 0x10, read-only bit 0x01 → 0444, else 0666; folders 0777).
 * A name ending in `/` is a folder either way.
 */
import type { Entry } from 'yauzl';
import { permissionBits, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './unix-mode.js';

export interface ZipEntryKind {
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits (0o644, ...). */
  mode: number;
}

const CREATOR_UNIX = 3;
const CREATOR_MACOS = 19;
const MSDOS_DIR = 0x10;
const MSDOS_READONLY = 0x01;

export function zipEntryKind(entry: Pick<Entry, 'versionMadeBy' | 'externalFileAttributes'>, trailingSlash: boolean): ZipEntryKind {
  const creator = entry.versionMadeBy >> 8;
  const unixMode = entry.externalFileAttributes >>> 16;
  if ((creator === CREATOR_UNIX || creator === CREATOR_MACOS) && unixMode !== 0) {
    const perm = permissionBits(unixMode);
    switch (unixMode & S_IFMT) {
      case S_IFLNK:
        return { type: 'symlink', mode: perm || 0o777 };
      case S_IFDIR:
        return { type: 'directory', mode: perm || 0o755 };
      case 0:
      case S_IFREG:
        return trailingSlash ? { type: 'directory', mode: perm || 0o755 } : { type: 'file', mode: perm || 0o644 };
      default:
        return { type: 'other', mode: perm };
    }
  }
  const attrs = entry.externalFileAttributes & 0xff;
  if (trailingSlash || attrs & MSDOS_DIR) return { type: 'directory', mode: 0o777 };
  return { type: 'file', mode: attrs & MSDOS_READONLY ? 0o444 : 0o666 };
}
