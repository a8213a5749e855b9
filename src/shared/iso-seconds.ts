/** ISO 8601 in UTC to the second (`2024-01-31T16:47:55Z`), as GitLab writes CI_*_AT times. */
export function isoSeconds(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
