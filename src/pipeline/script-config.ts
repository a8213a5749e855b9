/**
 * `script`, `before_script`, `after_script`: a string, or a list whose items are strings or
 * lists of strings (what `!reference` produces), flattened one level as GitLab does.
 */
import { configError, type Where } from './source-positions.js';
import type { YamlValue } from './yaml-value.js';

export function parseScript(value: YamlValue | undefined, owner: string, key: string, where: Where | undefined): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  const bad = (): Error => configError(where, `${owner}: ${key} must be a string or a list of strings`, key);
  if (!Array.isArray(value)) throw bad();
  const lines: string[] = [];
  for (const item of value) {
    if (typeof item === 'string') lines.push(item);
    else if (Array.isArray(item) && item.every((i) => typeof i === 'string')) lines.push(...(item as string[]));
    else throw bad();
  }
  return lines;
}
