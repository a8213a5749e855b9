/** `allow_failure: true | false | {exit_codes: N | [N, ...]}`. */
import { expectExitCodes } from './keyword-values.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { isMap, type YamlValue } from '../load/yaml-value.js';

export interface AllowFailure {
  allowFailure: boolean;
  /** With exit codes, the failure is allowed only for these codes (allowFailure is false). */
  exitCodes: number[];
}

export function parseAllowFailure(value: YamlValue, owner: string, positions: SourcePositions, where: Where | undefined): AllowFailure {
  if (typeof value === 'boolean') return { allowFailure: value, exitCodes: [] };
  if (isMap(value) && Object.keys(value).length === 1 && value.exit_codes !== undefined) {
    return { allowFailure: false, exitCodes: expectExitCodes(value.exit_codes, `${owner}: allow_failure:exit_codes`, positions.key(value, 'exit_codes'), 'allow_failure') };
  }
  throw configError(where, `${owner}: allow_failure must be true, false or {exit_codes: [codes]}`, 'allow_failure');
}
