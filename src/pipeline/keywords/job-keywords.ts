/** The keywords of .gitlab-ci.yml as berth exec treats them. */

/** Top-level keys that are not jobs. */
export const GLOBAL_KEYWORDS = [
  'image', 'services', 'cache', 'before_script', 'after_script', 'variables', 'stages', 'types',
  'include', 'default', 'workflow', 'spec',
] as const;

/** Job keys berth exec implements. */
export const SUPPORTED_JOB_KEYS = [
  'script', 'before_script', 'after_script', 'image', 'services', 'stage', 'type', 'variables', 'when',
  'allow_failure', 'needs', 'extends', 'rules', 'only', 'except', 'timeout', 'inherit', 'retry', 'start_in', 'parallel',
  'artifacts', 'cache', 'dependencies', 'environment', 'coverage',
] as const;

/** Job keys that have no meaning for a local run and are ignored silently. */
export const IGNORED_JOB_KEYS = ['tags', 'interruptible', 'resource_group', 'manual_confirmation', 'description'] as const;

/** Job keys GitLab knows that berth exec does not implement yet: one warning each. */
export const UNSUPPORTED_JOB_KEYS = [
  'release', 'secrets', 'trigger',
  'hooks', 'id_tokens', 'identity', 'pages', 'publish', 'dast_configuration', 'inputs', 'run',
] as const;

/** Keys `default:` may have. */
export const DEFAULT_KEYWORDS = [
  'image', 'services', 'before_script', 'after_script', 'timeout', 'interruptible', 'retry', 'tags', 'cache',
  'artifacts', 'hooks', 'id_tokens', 'identity',
] as const;

/** Deprecated top-level forms of some defaults. */
export const LEGACY_DEFAULT_KEYWORDS = ['image', 'services', 'before_script', 'after_script', 'cache'] as const;

export const ALL_JOB_KEYS: readonly string[] = [...SUPPORTED_JOB_KEYS, ...IGNORED_JOB_KEYS, ...UNSUPPORTED_JOB_KEYS];

export function isKnownJobKey(key: string): boolean {
  return ALL_JOB_KEYS.includes(key);
}
