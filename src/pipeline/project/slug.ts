/**
 * GitLab's slugify (CI_COMMIT_REF_SLUG, CI_JOB_NAME_SLUG, CI_PROJECT_PATH_SLUG): lowercase,
 * every character outside a-z0-9 becomes '-', at most 63 characters, no leading or
 * trailing '-'.
 */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

/** A stable positive number (1..999999) for a project path, used as CI_PROJECT_ID. */
export function stableProjectId(path: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    hash ^= path.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % 999_999) + 1;
}
