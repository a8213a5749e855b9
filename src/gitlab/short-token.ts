/**
 * The short form of a runner or job token, safe for logs, container names, the job log header
 * and the runner's part of distributed cache object names (gitlab-runner helpers/shorten_token.go,
 * 18.2 and later): known prefixes are stripped one after the other (a runner token's `glrt-`,
 * `glrt-t1_`, `t2_`, `glrtr-`...; a job token's `glcbt-`; the `GR<7 hex>` of a legacy
 * registration token), then the first 9 characters are kept.
 */

/** Applied in this order, each to what the one before left (as gitlab-runner's prefixRes). */
const PREFIXES = [/^(?:glrt-(?:t[123]_)?|t[123]_|glrtr-)/, /^glcbt-/, /^GR[0-9A-Fa-f]{7}/] as const;

const SHORT_TOKEN_LENGTH = 9;

export function shortToken(token: string): string {
  let rest = token;
  for (const prefix of PREFIXES) rest = rest.replace(prefix, '');
  return rest.slice(0, SHORT_TOKEN_LENGTH);
}
