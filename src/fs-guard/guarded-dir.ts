/**
 * Directories under a guarded root (the user's repository), created one component at a time:
 * every component is checked with lstat and must be a real directory, never a symbolic link,
 * and missing ones are made with a plain (non-recursive) async mkdir. Nothing here can loop on
 * odd paths such as links into /proc (Node's recursive mkdir can), and nothing is synchronous,
 * so Ctrl-C keeps working.
 */
import { lstat, mkdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { FsGuardError } from './fs-guard-error.js';
import { componentsOf } from './path-inside.js';

/** The real path of a root the user named (following the user's own links is fine). */
export async function realRootOf(root: string): Promise<string> {
  try {
    return await realpath(root);
  } catch (err) {
    throw new FsGuardError('io', root, `Cannot open the directory ${root} (${codeOf(err)}); check that it exists`, { cause: err });
  }
}

/**
 * Makes sure `rel` is a directory under `root` reached without links, creating what is missing
 * with `mode`. Returns its absolute path under the real root.
 */
export async function ensureDirUnder(root: string, rel: string, opts: { mode?: number; create?: boolean } = {}): Promise<string> {
  const realRoot = await realRootOf(root);
  let current = realRoot;
  for (const part of componentsOf(realRoot, rel)) {
    current = join(current, part);
    await ensureOneDir(current, opts.create ?? true, opts.mode ?? 0o755);
  }
  return current;
}

async function ensureOneDir(path: string, create: boolean, mode: number): Promise<void> {
  let st = await lstat(path).catch((err: unknown) => (codeOf(err) === 'ENOENT' ? null : Promise.reject(ioError(path, 'inspect', err))));
  if (!st && create) {
    await mkdir(path, { mode }).catch((err: unknown) => (codeOf(err) === 'EEXIST' ? undefined : Promise.reject(ioError(path, 'create the directory', err))));
    st = await lstat(path).catch((err: unknown) => Promise.reject(ioError(path, 'inspect', err)));
  }
  if (!st) throw new FsGuardError('io', path, `The directory ${path} does not exist`);
  if (st.isSymbolicLink()) throw await linkError(path);
  if (!st.isDirectory()) {
    throw new FsGuardError('not-directory', path, `Refusing to use ${path}: it is not a directory. Move it away so that berth can create the directory`);
  }
}

/** The error for a symbolic link where berth wants a real file or directory. */
export async function linkError(path: string): Promise<FsGuardError> {
  const target = await readlink(path).catch(() => '?');
  return new FsGuardError(
    'symlink',
    path,
    `Refusing to use ${path}: it is a symbolic link (to ${target}), and berth never follows links inside the repository. Remove the link (rm ${path}) or run berth on a copy without it`,
  );
}

export function ioError(path: string, what: string, err: unknown): FsGuardError {
  const code = codeOf(err);
  if (code === 'ELOOP') return new FsGuardError('symlink', path, `Refusing to use ${path}: it is a symbolic link, and berth never follows links inside the repository. Remove the link`, { cause: err });
  return new FsGuardError('io', path, `Cannot ${what} ${path} (${code}); check the path and its permissions`, { cause: err });
}

export function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException | null)?.code ?? 'error';
}
