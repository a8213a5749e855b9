/**
 * `script`, `before_script`, `after_script`: a string, or a list whose items are strings or
 * lists (what `!reference` produces, possibly nested), flattened as GitLab does: up to 10
 * levels of lists (Entry::Commands MAX_NESTING_LEVEL).
 */
import { configError, type Where } from '../load/source-positions.js';
import type { YamlValue } from '../load/yaml-value.js';

export const MAX_SCRIPT_NESTING = 10;

export function parseScript(value: YamlValue | undefined, owner: string, key: string, where: Where | undefined): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  const lines: string[] = [];
  if (!Array.isArray(value) || !flatten(value, MAX_SCRIPT_NESTING - 1, lines)) {
    throw configError(where, `${owner}: ${key} must be a string or a list of strings (lists may be nested up to ${MAX_SCRIPT_NESTING} levels)`, key);
  }
  return lines;
}

function flatten(list: YamlValue[], levelsLeft: number, out: string[]): boolean {
  for (const item of list) {
    if (typeof item === 'string') out.push(item);
    else if (!Array.isArray(item) || levelsLeft === 0 || !flatten(item, levelsLeft - 1, out)) return false;
  }
  return true;
}
