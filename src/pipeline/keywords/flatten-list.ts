/**
 * GitLab's composable lists (`Entry::ComposableArray`: rules, needs, services, include, caches)
 * flatten nested lists before reading their items (`[@config].flatten`): what
 * `rules: [!reference [.defaults, rules], {if: ...}]` produces. Each item keeps the line it
 * was written on.
 */
import type { SourcePositions, Where } from '../load/source-positions.js';
import type { YamlValue } from '../load/yaml-value.js';

export interface ListItem {
  value: YamlValue;
  where: Where | undefined;
}

export function flattenList(list: YamlValue[], positions: SourcePositions, where: Where | undefined): ListItem[] {
  const out: ListItem[] = [];
  const visit = (items: YamlValue[], fallback: Where | undefined): void => {
    items.forEach((value, i) => {
      const at = positions.item(items, i) ?? fallback;
      if (Array.isArray(value)) visit(value, at);
      else out.push({ value, where: at });
    });
  };
  visit(list, where);
  return out;
}
