/**
 * Lexical path helpers of src/fs-guard: whether a path lies inside a root, and the components
 * of a path relative to a root (never `..`, never absolute).
 */
import { isAbsolute, relative, sep } from 'node:path';
import { FsGuardError } from './fs-guard-error.js';

/** True when `path` is `root` or below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The components of `rel`, refusing `..`, absolute paths and NUL bytes. */
export function componentsOf(root: string, rel: string): string[] {
  if (isAbsolute(rel) || rel.includes('\0')) {
    throw new FsGuardError('bad-path', rel, `The path "${rel}" is not a relative path under ${root}; berth only writes inside it`);
  }
  const parts = rel.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new FsGuardError('outside', rel, `The path "${rel}" leaves ${root}; berth only reads and writes inside it`);
  }
  return parts;
}
