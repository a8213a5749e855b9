/**
 * `extends`: every top-level map with `extends` gets its bases merged in (GitLab's
 * Config::Extendable): bases are resolved first (multi-level), merged in the listed order,
 * and the entry's own keys win; hashes merge deeply, lists are replaced. An unknown or
 * non-map base, a cycle, or more than 10 levels is an error; an unknown base is only a
 * warning when includes were skipped (the base may be defined there).
 */
import { mergeMaps } from './deep-merge.js';
import type { SkippedIncludes } from './skipped-includes.js';
import { configError, locationPrefix, type SourcePositions } from './source-positions.js';
import { hasKey, isMap, newMap, type YamlMap } from './yaml-value.js';

export const MAX_EXTENDS_LEVELS = 10;

interface ExtendsContext {
  config: YamlMap;
  positions: SourcePositions;
  resolved: Map<string, YamlMap>;
  skipped?: SkippedIncludes;
  warn(message: string): void;
}

export function resolveExtends(config: YamlMap, positions: SourcePositions, skipped?: SkippedIncludes, warn: (m: string) => void = () => {}): YamlMap {
  const out = newMap();
  const ctx: ExtendsContext = { config, positions, resolved: new Map(), skipped, warn };
  for (const [key, value] of Object.entries(config)) {
    out[key] = isMap(value) && hasKey(value, 'extends') ? extend(key, ctx, []) : value;
  }
  const keys = positions.keys(config);
  const where = positions.of(config);
  if (where) positions.set(out, where, keys ? new Map(keys) : undefined);
  return out;
}

function extend(key: string, ctx: ExtendsContext, ancestors: string[]): YamlMap {
  const { config, positions, resolved } = ctx;
  const done = resolved.get(key);
  if (done) return done;
  const value = config[key] as YamlMap;
  if (!hasKey(value, 'extends')) return value;
  const where = positions.key(value, 'extends');
  const names = extendsNames(value.extends, key, where);
  if (ancestors.length > MAX_EXTENDS_LEVELS) {
    throw configError(where, `${label(key)}: extends is nested more than ${MAX_EXTENDS_LEVELS} levels deep`, 'extends');
  }
  if (ancestors.includes(key)) {
    const chain = [...ancestors.slice(ancestors.indexOf(key)), key].join(' → ');
    throw configError(where, `${label(key)}: circular extends (${chain})`, 'extends');
  }
  let merged = newMap();
  for (const name of names) {
    if (!hasKey(config, name)) {
      if (ctx.skipped?.any) {
        ctx.warn(`${locationPrefix(where)}${label(key)}: extends "${name}", which is not defined here (${ctx.skipped.hint()}); extending without it`);
        continue;
      }
      throw configError(where, `${label(key)}: extends "${name}", which is not defined${suggest(name, config)}`, 'extends');
    }
    if (!isMap(config[name])) {
      throw configError(where, `${label(key)}: extends "${name}", which is not a map of keywords`, 'extends');
    }
    merged = mergeMaps(merged, extend(name, ctx, [...ancestors, key]), positions);
  }
  const result = mergeMaps(merged, value, positions);
  resolved.set(key, result);
  return result;
}

function extendsNames(value: unknown, key: string, where: ReturnType<SourcePositions['key']>): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) {
    throw configError(where, `${label(key)}: extends must be a job or template name, or a list of them`, 'extends');
  }
  return list as string[];
}

function label(key: string): string {
  return key.startsWith('.') ? `template "${key}"` : `job "${key}"`;
}

function suggest(name: string, config: YamlMap): string {
  const alt = name.startsWith('.') ? name.slice(1) : `.${name}`;
  return hasKey(config, alt) ? ` (did you mean "${alt}"?)` : '';
}
