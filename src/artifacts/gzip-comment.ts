/**
 * The gzip header name and comment gitlab-runner gives a report member (the file's base name,
 * and its path relative to the project): the text itself, or, when it holds a non-ASCII
 * character or `%`, `e:` + the text escaped as Go's url.PathEscape does
 * (helpers/archives/gzip_create.go, sanitizePath, applied to both). GZIP header strings are
 * Latin-1 (RFC 1952), hence the escape.
 */

const UNESCAPED = /^[A-Za-z0-9\-_.~$&+:=@]$/;

export function gzipHeaderText(relPath: string): string {
  if (![...relPath].some((ch) => ch === '%' || ch.codePointAt(0)! > 0x7f)) return relPath;
  return `e:${pathEscape(relPath)}`;
}

/** Go's url.PathEscape: every byte but the unreserved ones and `$&+:=@` becomes %XX. */
export function pathEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += UNESCAPED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
