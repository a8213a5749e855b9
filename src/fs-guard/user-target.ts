/**
 * A file the user named on the command line (e.g. `--report PATH`): the user's own links are
 * followed, but once the path enters a guarded root (the repository) the rest is reached without
 * links, as for berth's own files there. Missing directories are created one at a time with an
 * async, non-recursive mkdir, so a path into /proc fails at once instead of spinning.
 */
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join, parse, relative, resolve } from 'node:path';
import { FsGuardError } from './fs-guard-error.js';
import { codeOf, ioError, realRootOf } from './guarded-dir.js';
import { openForWriteUnder, writeFileUnder, type GuardedWriteOptions } from './guarded-write.js';
import { isInside } from './path-inside.js';

export interface UserTarget {
  /** The directory the rest is guarded under, and the path below it. */
  root: string;
  rel: string;
}

/** Creates the parent directories of `path` and says where (under which root) the file goes. */
export async function prepareUserTarget(path: string, guardedRoots: readonly string[]): Promise<UserTarget> {
  const roots = await Promise.all(guardedRoots.map(realRootOf));
  const abs = resolve(path);
  const { root: fsRoot } = parse(abs);
  const parts = relative(fsRoot, abs).split(/[\\/]+/).filter(Boolean);
  if (!parts.length) throw new FsGuardError('bad-path', abs, `${path} names no file`);
  let current = fsRoot;
  for (let i = 0; i < parts.length - 1; i++) {
    const guard = roots.find((r) => isInside(r, current));
    if (guard) return { root: guard, rel: join(relative(guard, current), ...parts.slice(i)) };
    current = await enterDir(join(current, parts[i]!));
  }
  const guard = roots.find((r) => isInside(r, current));
  if (guard) return { root: guard, rel: join(relative(guard, current), parts[parts.length - 1]!) };
  return { root: current, rel: parts[parts.length - 1]! };
}

/** Creates the directories `prepareUserTarget` needs and writes the file there. */
export async function writeUserFile(path: string, data: string, guardedRoots: readonly string[], opts?: GuardedWriteOptions): Promise<void> {
  const target = await prepareUserTarget(path, guardedRoots);
  await writeFileUnder(target.root, target.rel, data, opts);
}

/** Opens the file `prepareUserTarget` names, for writing. */
export async function openUserTarget(target: UserTarget, opts?: GuardedWriteOptions): Promise<number> {
  return openForWriteUnder(target.root, target.rel, opts);
}

/** One directory outside every guarded root: the user's links are followed; missing ones are made. */
async function enterDir(path: string): Promise<string> {
  let st = await lstat(path).catch((err: unknown) => (codeOf(err) === 'ENOENT' ? null : Promise.reject(ioError(path, 'inspect', err))));
  if (!st) {
    await mkdir(path, { mode: 0o755 }).catch((err: unknown) => (codeOf(err) === 'EEXIST' ? undefined : Promise.reject(ioError(path, 'create the directory', err))));
    st = await lstat(path).catch((err: unknown) => Promise.reject(ioError(path, 'inspect', err)));
  }
  if (!st) throw new FsGuardError('io', path, `Cannot create the directory ${path}`);
  if (st.isSymbolicLink()) return realpath(path).catch((err: unknown) => Promise.reject(ioError(path, 'follow the link', err)));
  if (!st.isDirectory()) throw new FsGuardError('not-directory', path, `Cannot write under ${path}: it is not a directory; choose another path`);
  return path;
}
