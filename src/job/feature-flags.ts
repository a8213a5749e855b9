/**
 * A feature flag as gitlab-runner resolves it for a job (common/build_settings.go
 * populateFeatureFlags): the runner's `[runners.feature_flags]` value when it sets the flag,
 * else the job's variable when it parses as a Go bool (1/t/T/TRUE/true/True, 0/f/F/FALSE/false/False),
 * else the flag's default.
 */
import type { JobVariable } from './job-spec.js';
import { variableValue } from './variables.js';
import { parseGoBool } from '../shared/go-bool.js';

export function featureFlagOn(
  name: string,
  defaultValue: boolean,
  runnerFlags: Readonly<Record<string, boolean>>,
  variables: readonly JobVariable[],
): boolean {
  if (Object.hasOwn(runnerFlags, name)) return runnerFlags[name]!;
  return parseGoBool(variableValue(variables, name)) ?? defaultValue;
}
