/**
 * Go's strconv.ParseInt(s, 10, 64) as gitlab-runner's settings read a variable: an optional sign
 * and decimal digits, nothing else (no spaces), within 64 bits; null where Go returns an error.
 * The value is a JS number (exact up to 2^53, which no setting comes near).
 */
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -INT64_MAX - 1n;

export function parseGoInt64(raw: string): number | null {
  if (!/^[+-]?\d+$/.test(raw)) return null;
  const big = BigInt(raw);
  return big > INT64_MAX || big < INT64_MIN ? null : Number(big);
}
