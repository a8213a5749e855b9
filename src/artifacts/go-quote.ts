/**
 * Go's `%q` for a string (strconv.Quote), for log lines gitlab-runner prints with `%q`
 * (shells/abstract.go: `cache key %q sanitized to %q`, `CACHE_FALLBACK_KEY %q not allowed ...`;
 * cache/cachekey/cachekey.go: `cache key %q could not be sanitized`).
 *
 * Printable characters (Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and
 * the ASCII space) stay as they are; `"` and `\` are escaped; \a \b \f \n \r \t \v use their short
 * escapes; other control characters below 0x80 become `\xNN`, other non-printable characters
 * `\uNNNN` or `\UNNNNNNNN`.
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const SHORT: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/** `s` quoted the way Go's `%q` verb (strconv.Quote) prints it. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = SHORT[ch];
    if (short !== undefined) {
      out += short;
      continue;
    }
    if (PRINTABLE.test(ch)) {
      out += ch;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}
