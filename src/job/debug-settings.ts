/**
 * CI_DEBUG_TRACE and CI_DEBUG_SERVICES as gitlab-runner reads them (common/build_settings.go):
 * Go's strconv.ParseBool (`1`, `t`, `TRUE`, `True`... are true; anything else is false), both
 * off with a warning each when the runner has `debug_trace_disabled`. The job log is sent with
 * `debug_trace=true` when either is on (Build.IsDebugModeEnabled); only CI_DEBUG_TRACE traces
 * the commands, only CI_DEBUG_SERVICES streams the services' output (service-logs.ts).
 */
import { parseGoBool } from '../shared/go-bool.js';
import type { JobVariable } from './job-spec.js';
import { variableValue } from './variables.js';

export interface DebugSettings {
  /** CI_DEBUG_TRACE: `set -o xtrace` for the commands. */
  trace: boolean;
  /** CI_DEBUG_SERVICES: the services' output streamed into the job log. */
  services: boolean;
  /** CI_DEBUG_TRACE or CI_DEBUG_SERVICES: the log is a debug log (`debug_trace=true`). */
  debugMode: boolean;
  /** gitlab-runner's warnings when the runner disabled what the job asked for. */
  warnings: string[];
}

export function debugSettings(vars: readonly JobVariable[], disabled: boolean): DebugSettings {
  const trace = parseGoBool(variableValue(vars, 'CI_DEBUG_TRACE')) === true;
  const services = parseGoBool(variableValue(vars, 'CI_DEBUG_SERVICES')) === true;
  if (!disabled) return { trace, services, debugMode: trace || services, warnings: [] };
  const warnings = [...(trace ? ['CI_DEBUG_TRACE: usage is disabled on this Runner'] : []), ...(services ? ['CI_DEBUG_SERVICES: usage is disabled on this Runner'] : [])];
  return { trace: false, services: false, debugMode: false, warnings };
}
