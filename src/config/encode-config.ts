/**
 * Typed config → config.toml text with gitlab-runner's key names and layout. A key is written
 * when its value differs from the default, or when gitlab-runner always writes it (`concurrent`,
 * `check_interval`, `[[runners]] name/url/id/token/...`, `[runners.docker] image/privileged/...`).
 * Keys berth does not know are written back into the table they were read from, after the known
 * ones (extra-keys.ts); comments are not kept (gitlab-runner drops them too).
 */
import type { BerthConfig, RunnerConfig, SkippedRunner } from './berth-config.js';
import { sameValue } from './decode-table.js';
import { GO_ZERO_TIME } from './go-values.js';
import { formatGoDuration } from '../shared/go-duration.js';
import { extraKeysOf } from './extra-keys.js';
import { expandEnv } from './parse-config.js';
import { globalSchema } from './runner-schema.js';
import type { AnyDecl, FieldDecl, Schema } from './schema.js';
import { formatString, formatValue, isTable, TomlLines, writeRawTable } from './toml-text.js';

const TABLE_KINDS = new Set(['stringMap', 'boolMap', 'stringListMap', 'rawTable']);

export function encodeConfig(config: BerthConfig, env: NodeJS.ProcessEnv = process.env): string {
  const out = new TomlLines();
  writeTable(out, [], globalSchema, config, env);
  return out.text();
}

/**
 * The `[[runners]]` entries to write, in file order: the skipped ones (another executor) as they
 * were read, the docker ones still in `config.runners`, then the ones added since loading.
 */
function runnerEntries(config: BerthConfig): (RunnerConfig | SkippedRunner)[] {
  if (!config.runnerOrder) return config.runners;
  const current = new Set(config.runners);
  const kept = config.runnerOrder.filter((r) => isSkipped(r) || current.has(r));
  const known = new Set(kept);
  return [...kept, ...config.runners.filter((r) => !known.has(r))];
}

function isSkipped(entry: object): entry is SkippedRunner {
  return 'skipped' in entry && entry.skipped === true;
}

function writeTable(out: TomlLines, names: string[], schema: Schema, obj: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const later: (() => void)[] = [];
  for (const [prop, decl] of Object.entries(schema)) {
    const value = obj[prop];
    const at = [...names, decl.toml];
    if (decl.kind === 'table') {
      if (hasContent(decl.fields, value as Record<string, unknown>)) {
        later.push(() => {
          out.header(at, false);
          writeTable(out, at, decl.fields, value as Record<string, unknown>, env);
        });
      }
    } else if (decl.kind === 'tableArray') {
      const items = names.length === 0 && prop === 'runners' ? runnerEntries(obj as BerthConfig) : (value as Record<string, unknown>[]);
      for (const item of items) {
        later.push(() => {
          out.header(at, true);
          if (isSkipped(item)) writeRawTable(out, at, item.table);
          else writeTable(out, at, decl.fields, item, env);
        });
      }
    } else if (shouldWrite(decl, value)) {
      if (TABLE_KINDS.has(decl.kind)) {
        later.push(() => {
          out.header(at, false);
          writeRawTable(out, at, value as Record<string, unknown>);
        });
      } else {
        out.keyValue(names.length, decl.toml, credentialTemplate(obj, prop, env) ?? formatField(decl, value));
      }
    }
  }
  writeExtraKeys(out, names, obj, later);
  for (const write of later) write();
}

/** The keys berth did not know in this table: values now, tables with the other tables (`later`). */
function writeExtraKeys(out: TomlLines, names: string[], obj: Record<string, unknown>, later: (() => void)[]): void {
  const extra = extraKeysOf(obj);
  const scalars = Object.fromEntries(Object.entries(extra).filter(([, v]) => !isTable(v) && !isTableList(v)));
  writeRawTable(out, names, scalars);
  for (const [key, value] of Object.entries(extra)) {
    const at = [...names, key];
    if (isTable(value)) {
      later.push(() => {
        out.header(at, false);
        writeRawTable(out, at, value);
      });
    } else if (isTableList(value)) {
      for (const item of value) {
        later.push(() => {
          out.header(at, true);
          writeRawTable(out, at, item);
        });
      }
    }
  }
}

function isTableList(value: unknown): value is Record<string, unknown>[] {
  return Array.isArray(value) && value.length > 0 && value.every(isTable);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function shouldWrite(decl: FieldDecl<any>, value: unknown): boolean {
  if (decl.always) return true;
  return !sameValue(value, decl.default);
}

function hasContent(schema: Schema, obj: Record<string, unknown>): boolean {
  if (Object.keys(extraKeysOf(obj)).length) return true;
  return Object.entries(schema).some(([prop, decl]: [string, AnyDecl]) => {
    const value = obj[prop];
    if (decl.kind === 'table') return hasContent(decl.fields, value as Record<string, unknown>);
    if (decl.kind === 'tableArray') return (value as unknown[]).length > 0;
    return shouldWrite(decl, value);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function formatField(decl: FieldDecl<any>, value: unknown): string {
  if (decl.kind === 'datetime') return (value as string) || GO_ZERO_TIME;
  if (decl.kind === 'duration') return formatString(formatGoDuration(value as number));
  return formatValue(value);
}

/** The `$VAR` text a url/token was read from, while it still expands to the current value. */
function credentialTemplate(obj: Record<string, unknown>, prop: string, env: NodeJS.ProcessEnv): string | undefined {
  if (prop !== 'url' && prop !== 'token') return undefined;
  const runner = obj as RunnerConfig;
  const template = runner.expandedFrom?.[prop];
  if (template === undefined || expandEnv(template, env) !== runner[prop]) return undefined;
  return formatString(template);
}
