/**
 * zipEntryPath: a zip entry's stored name → the relative, `/`-separated path it may be extracted
 * to, or why it may not. Refused: a NUL byte, an absolute name (`/x`, `C:x`), any `..` segment.
 * Backslashes count as separators (yauzl's non-strict reading; a Windows-made zip), so `..\x` is
 * refused too. Empty and `.` segments are dropped: `./a//b` is `a/b`, `./` is the root ('').
 * Extraction stays inside the project directory as gitlab-runner's extractors keep it there
 * (helpers/archives/zip_extract.go; fastzip extracts with chroot = the project dir).
 */

export type ZipEntryPath =
  | { ok: true; path: string; /** the name ended in `/` (a folder, by zip's convention) */ trailingSlash: boolean }
  | { ok: false; reason: string };

/** `backslashes`: whether `\` separates folders (zip: yes; tar, a POSIX format: no, it is part of a name). */
export function zipEntryPath(stored: string, backslashes = true): ZipEntryPath {
  if (stored.includes('\0')) return { ok: false, reason: 'its name contains a NUL byte' };
  const name = backslashes ? stored.replace(/\\/g, '/') : stored;
  if (name.startsWith('/') || (backslashes && /^[A-Za-z]:/.test(name))) return { ok: false, reason: 'its name is an absolute path' };
  const segments = name.split('/');
  if (segments.includes('..')) return { ok: false, reason: "its name has a '..' segment" };
  const parts = segments.filter((s) => s !== '' && s !== '.');
  return { ok: true, path: parts.join('/'), trailingSlash: name.endsWith('/') };
}
