/**
 * Typed config → config.toml text with gitlab-runner's key names and layout. A key is written
 * when its value differs from the default, or when gitlab-runner always writes it (`concurrent`,
 * `check_interval`, `[[runners]] name/url/id/token/...`, `[runners.docker] image/privileged/...`).
 * Keys berth does not know are not written (gitlab-runner drops them too), nor are comments.
 */
import type { BerthConfig, RunnerConfig } from './berth-config.js';
import { sameValue } from './decode-table.js';
import { GO_ZERO_TIME } from './go-values.js';
import { formatGoDuration } from '../shared/go-duration.js';
import { expandEnv } from './parse-config.js';
import { globalSchema } from './runner-schema.js';
import type { AnyDecl, FieldDecl, Schema } from './schema.js';
import { formatString, formatValue, TomlLines, writeRawTable } from './toml-text.js';

const TABLE_KINDS = new Set(['stringMap', 'boolMap', 'stringListMap', 'rawTable']);

export function encodeConfig(config: BerthConfig, env: NodeJS.ProcessEnv = process.env): string {
  const out = new TomlLines();
  writeTable(out, [], globalSchema, config, env);
  return out.text();
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
      for (const item of value as Record<string, unknown>[]) {
        later.push(() => {
          out.header(at, true);
          writeTable(out, at, decl.fields, item, env);
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
  for (const write of later) write();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function shouldWrite(decl: FieldDecl<any>, value: unknown): boolean {
  if (decl.always) return true;
  return !sameValue(value, decl.default);
}

function hasContent(schema: Schema, obj: Record<string, unknown>): boolean {
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
