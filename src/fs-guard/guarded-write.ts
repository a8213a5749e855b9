/**
 * Files written under a guarded root (the user's repository): the parent directories are
 * reached without links (guarded-dir), the file is opened with O_NOFOLLOW (a link is refused,
 * never written through) and O_NONBLOCK (a FIFO cannot block the open), it must then be a
 * regular file with one link, and on Linux the opened file's real path (/proc/self/fd) must
 * still be under the root. Only then is it truncated. The caller gets a plain file descriptor.
 */
import { close, constants, fstat, ftruncate, open, write } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FsGuardError } from './fs-guard-error.js';
import { codeOf, ensureDirUnder, ioError, linkError, realRootOf } from './guarded-dir.js';
import { componentsOf, isInside } from './path-inside.js';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const ftruncateAsync = promisify(ftruncate);
const closeAsync = promisify(close);
const writeAsync = promisify(write);

export interface GuardedWriteOptions {
  /** Mode of a new file (default 0644) and of new parent directories (default 0755). */
  mode?: number;
  dirMode?: number;
  /** Empty the file once it is known to be safe (default true). */
  truncate?: boolean;
  /** Every write goes to the end of the file (O_APPEND); implies truncate: false. */
  append?: boolean;
}

/** Opens `rel` under `root` for writing, creating it and its parents. Returns the descriptor. */
export async function openForWriteUnder(root: string, rel: string, opts: GuardedWriteOptions = {}): Promise<number> {
  const realRoot = await realRootOf(root);
  const parts = componentsOf(realRoot, rel);
  const name = parts.pop();
  if (name === undefined) throw new FsGuardError('bad-path', rel, `"${rel}" names no file under ${realRoot}`);
  const dir = await ensureDirUnder(realRoot, parts.join('/'), { mode: opts.dirMode ?? 0o755 });
  const path = join(dir, name);
  const before = await lstat(path).catch(() => null);
  if (before?.isSymbolicLink()) throw await linkError(path);
  if (before && !before.isFile()) throw notRegular(path);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | (opts.append ? constants.O_APPEND : 0);
  const fd = await openAsync(path, flags, opts.mode ?? 0o644).catch((err: unknown) => {
    throw codeOf(err) === 'ENXIO' ? notRegular(path) : ioError(path, 'open for writing', err);
  });
  try {
    const st = await fstatAsync(fd);
    if (!st.isFile()) throw notRegular(path);
    if (st.nlink > 1) throw hardLink(path, st.nlink);
    const real = await readlink(`/proc/self/fd/${fd}`).catch(() => null);
    if (real !== null && real.startsWith('/') && !isInside(realRoot, real)) {
      throw new FsGuardError('outside', path, `Refusing to write ${path}: it resolves to ${real}, outside ${realRoot}`);
    }
    if (!opts.append && (opts.truncate ?? true)) await ftruncateAsync(fd, 0);
    return fd;
  } catch (err) {
    await closeAsync(fd).catch(() => undefined);
    throw err;
  }
}

/**
 * Checks, without creating or changing anything, that `rel` under `root` could be written: no
 * parent is a link or a file, and the file is absent or a regular file with one link. Lets a
 * caller refuse a hostile repository before it starts any work.
 */
export async function checkWritableUnder(root: string, rel: string): Promise<void> {
  const realRoot = await realRootOf(root);
  const parts = componentsOf(realRoot, rel);
  let path = realRoot;
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    const st = await lstat(path).catch((err: unknown) => (codeOf(err) === 'ENOENT' ? null : Promise.reject(ioError(path, 'inspect', err))));
    if (!st) return;
    if (st.isSymbolicLink()) throw await linkError(path);
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) {
      throw new FsGuardError('not-directory', path, `Refusing to use ${path}: it is not a directory. Move it away so that berth can create the directory`);
    }
    if (last && !st.isFile()) throw notRegular(path);
    if (last && st.nlink > 1) throw hardLink(path, st.nlink);
  }
}

/** Writes `data` to `rel` under `root` (replacing its content) without following links. */
export async function writeFileUnder(root: string, rel: string, data: string | Uint8Array, opts: GuardedWriteOptions = {}): Promise<void> {
  const fd = await openForWriteUnder(root, rel, opts);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length; ) off += (await writeAsync(fd, buf, off, buf.length - off)).bytesWritten;
  } finally {
    await closeAsync(fd);
  }
}

function notRegular(path: string): FsGuardError {
  return new FsGuardError('not-regular', path, `Refusing to write ${path}: it is not a regular file (a directory, FIFO, socket or device). Move it away`);
}

function hardLink(path: string, links: number): FsGuardError {
  return new FsGuardError('hard-link', path, `Refusing to write ${path}: it has ${links} hard links, so writing it would change another file too. Remove it (rm ${path})`);
}
