/**
 * A job's feature flags as gitlab-runner resolves them (common/build_settings.go
 * populateFeatureFlags, common/build.go IsFeatureFlagOn): the runner's `[[runners]]
 * feature_flags` in config.toml win; else a job variable of that name, read with Go's
 * strconv.ParseBool (a value it cannot parse leaves the default); else the flag's default.
 */
import type { JobVariable } from './job-spec.js';
import { variableValue } from './variables.js';

/** The flags berth reads, with gitlab-runner's defaults (helpers/featureflags/flags.go). */
export const FEATURE_FLAG_DEFAULTS = {
  FF_HASH_CACHE_KEYS: false,
} as const;

export type KnownFeatureFlag = keyof typeof FEATURE_FLAG_DEFAULTS;

/** Go's strconv.ParseBool; undefined when Go would return an error. */
export function parseGoBool(raw: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  return undefined;
}

export function featureFlagOn(name: KnownFeatureFlag, runnerFlags: Readonly<Record<string, boolean>>, variables: readonly JobVariable[]): boolean {
  const fromToml = runnerFlags[name];
  if (fromToml !== undefined) return fromToml;
  const raw = variableValue(variables, name);
  return (raw === undefined ? undefined : parseGoBool(raw)) ?? FEATURE_FLAG_DEFAULTS[name];
}
