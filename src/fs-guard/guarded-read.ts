/**
 * Reads of repository files: `resolveInside` follows links but refuses a real path outside the
 * root (a committed `cfg -> /etc` must not pull host files in); `readRegularFile` opens without
 * blocking, refuses anything but a regular file (/dev/zero, FIFOs, sockets, directories) before
 * reading a byte, and stops at a size bound.
 */
import { close, constants, fstat, open, read } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { FsGuardError } from './fs-guard-error.js';
import { codeOf, realRootOf } from './guarded-dir.js';
import { isInside } from './path-inside.js';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);
const readAsync = promisify(read);

/**
 * The real path of `path` when it exists and lies under the real `root`; null when it does not
 * exist. Throws FsGuardError when links lead outside the root (or loop).
 */
export async function resolveInside(root: string, path: string): Promise<string | null> {
  const realRoot = await realRootOf(root);
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'ELOOP') throw new FsGuardError('symlink', path, `Refusing to read ${path}: its symbolic links loop. Fix the links`, { cause: err });
    throw new FsGuardError('io', path, `Cannot read ${path} (${code}); check the path and its permissions`, { cause: err });
  }
  if (!isInside(realRoot, real)) {
    throw new FsGuardError(
      'outside',
      path,
      `Refusing to read ${path}: it resolves through a symbolic link to ${real}, outside the repository ${realRoot}. Files are read from the repository only; replace the link with the file`,
    );
  }
  return real;
}

/** Reads a regular file of at most `maxBytes` bytes; `nofollow` also refuses a link as the last component. */
export async function readRegularFile(path: string, opts: { maxBytes: number; nofollow?: boolean }): Promise<Buffer> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (opts.nofollow ? constants.O_NOFOLLOW : 0);
  const fd = await openAsync(path, flags).catch((err: unknown) => {
    const code = codeOf(err);
    if (code === 'ELOOP') throw new FsGuardError('symlink', path, `Refusing to read ${path}: it is a symbolic link. Replace the link with the file`, { cause: err });
    throw new FsGuardError('io', path, `Cannot read ${path} (${code}); check the path and its permissions`, { cause: err });
  });
  try {
    const st = await fstatAsync(fd);
    if (!st.isFile()) {
      const kind = kindOf(st);
      throw new FsGuardError('not-regular', path, `Refusing to read ${path}: it is ${kind}, not a regular file. Name a regular file`, { kind });
    }
    if (st.size > opts.maxBytes) throw tooLarge(path, st.size, opts.maxBytes);
    const buf = Buffer.alloc(Math.min(st.size, opts.maxBytes) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await readAsync(fd, buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > opts.maxBytes) throw tooLarge(path, got, opts.maxBytes);
      if (got === buf.length) break;
    }
    return buf.subarray(0, got);
  } finally {
    await closeAsync(fd).catch(() => undefined);
  }
}

function tooLarge(path: string, size: number, max: number): FsGuardError {
  return new FsGuardError('too-large', path, `Refusing to read ${path}: it is ${size} bytes or more, more than the limit of ${max} bytes`, { size });
}

/** What a file that is not a regular file is, for messages. */
export function kindOf(st: { isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}
