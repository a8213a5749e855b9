/** Small type checks for keyword values, each throwing a located InputError. */
import { configError, type Where } from '../load/source-positions.js';
import { describeType, type YamlValue } from '../load/yaml-value.js';

export function expectString(value: YamlValue | undefined, what: string, where: Where | undefined, key?: string): string {
  if (typeof value === 'string') return value;
  throw configError(where, `${what} must be a string, not ${describeType(value)}`, key);
}

export function expectBoolean(value: YamlValue | undefined, what: string, where: Where | undefined, key?: string): boolean {
  if (typeof value === 'boolean') return value;
  throw configError(where, `${what} must be true or false, not ${describeType(value)}`, key);
}

/** A list of strings (a single string is accepted as a one-item list when `allowSingle`). */
export function expectStringList(
  value: YamlValue | undefined,
  what: string,
  where: Where | undefined,
  opts: { allowSingle?: boolean; key?: string } = {},
): string[] {
  if (opts.allowSingle && typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw configError(where, `${what} must be a list of strings${opts.allowSingle ? ' or a string' : ''}`, opts.key);
}

/** Integer exit codes: `N` or `[N, ...]`. */
export function expectExitCodes(value: YamlValue | undefined, what: string, where: Where | undefined, key?: string): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length > 0 && list.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255)) {
    return list as number[];
  }
  throw configError(where, `${what} must be an exit code (0-255) or a list of exit codes`, key);
}
