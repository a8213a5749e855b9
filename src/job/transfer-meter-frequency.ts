/**
 * TRANSFER_METER_FREQUENCY as gitlab-runner's helpers read it (helpers/meter TransferMeterCommand:
 * a Go duration from the job's variables, exported into the helper's environment): unset, empty or
 * 0 leaves the meter off; any other duration turns it on, ticking at least a second apart. A value
 * that is no duration fails the helper's flag parsing in gitlab-runner (the transfer fails); berth
 * warns and leaves the meter off, as a meter is no reason to fail a job.
 */
import { parseGoDuration } from '../shared/go-duration.js';
import type { JobVariable } from './job-spec.js';
import { variableValue } from './variables.js';

export interface TransferMeterFrequency {
  /** The period of the meter's lines; 0: no meter. */
  ms: number;
  /** The warning for a value that is no duration, else null. */
  problem: string | null;
}

export function transferMeterFrequency(vars: readonly JobVariable[]): TransferMeterFrequency {
  const raw = variableValue(vars, 'TRANSFER_METER_FREQUENCY') ?? '';
  if (raw.trim() === '') return { ms: 0, problem: null };
  const ms = parseGoDuration(raw);
  if (ms === undefined) {
    return { ms: 0, problem: `TRANSFER_METER_FREQUENCY: ${JSON.stringify(raw)} is not a duration such as "5s" or "1m30s"; the transfer meter is off` };
  }
  return { ms: ms === 0 ? 0 : Math.max(1000, ms), problem: null };
}
