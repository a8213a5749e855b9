/**
 * The short form of a runner token, safe for logs, container names and the job log header
 * (gitlab-runner helpers/shorten_token.go):
 * - `glrt-t1_`, `glrt-`, `glrtr-`, `glcbt-`, `t1_` tokens: the 9 characters after the prefix;
 * - legacy `GR<7 hex>…` tokens (rotation date encoded): the first 17 characters;
 * - any other token: the first 8 characters (a token shorter than 8 is returned as is).
 */

/** Longest first, so that `glrt-t1_` wins over `glrt-`. */
const TOKEN_PREFIXES = ['glrt-t1_', 'glrtr-', 'glcbt-', 'glrt-', 't1_'] as const;

export function shortToken(token: string): string {
  if (token.length < 8) return token;
  const prefix = TOKEN_PREFIXES.find((p) => token.startsWith(p));
  if (prefix) return token.slice(prefix.length, prefix.length + 9);
  if (token.length >= 17 && /^GR[0-9a-fA-F]{7}/.test(token)) return token.slice(0, 17);
  return token.slice(0, 8);
}
