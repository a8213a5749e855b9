/** The file-type bits of a unix st_mode, as zip external attributes and tar carry them. */

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** Permission bits only (rwx, setuid, setgid, sticky). */
export function permissionBits(mode: number): number {
  return mode & 0o7777;
}
