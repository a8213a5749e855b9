/**
 * gitlab-runner is written in Go: its config.toml holds Go times (the zero time is
 * `0001-01-01T00:00:00Z`); its Go durations (`"1h30m"`) are in shared/go-duration.ts.
 */

/** Go's zero time as gitlab-runner writes it. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** ISO 8601 UTC with whole seconds written without a fraction; Go's zero time becomes ''. */
export function toIsoDateTime(date: Date): string {
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() <= 1) return '';
  return date.toISOString().replace('.000Z', 'Z');
}
