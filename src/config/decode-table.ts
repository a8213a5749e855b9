/**
 * Turns a parsed TOML table into the typed model, one schema declaration at a time: absent keys
 * take their default, bad values fail with file, line and key, unknown keys and non-default
 * values of keys berth does not use become warnings. Unknown keys are kept beside the decoded
 * table (extra-keys.ts) for saving.
 */
import { addWarning, configError, describeValue, displayPath, type IssueSink } from './config-issues.js';
import { keepExtraKeys } from './extra-keys.js';
import { toIsoDateTime } from './go-values.js';
import { parseGoDuration } from '../shared/go-duration.js';
import { defaultOf, type AnyDecl, type FieldDecl, type Infer, type Schema } from './schema.js';
import type { KeyPath } from './toml-lines.js';

export interface DecodeContext extends IssueSink {
  /** Schema paths (no indexes) already warned about as unused: one warning per key per file. */
  unusedWarned: Set<string>;
}

export function decodeTable<S extends Schema>(raw: unknown, schema: S, path: KeyPath, ctx: DecodeContext): Infer<S> {
  const table = asTable(raw, path, ctx);
  const byToml = new Map(Object.entries(schema).map(([prop, decl]) => [decl.toml, [prop, decl] as const]));
  const unknown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) {
    if (!byToml.has(key)) {
      unknown[key] = value;
      addWarning(ctx, [...path, key], `unknown key ${displayPath([...path, key])} is ignored (berth keeps it when it saves this file)`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [prop, decl] of Object.entries(schema)) {
    const keyPath = [...path, decl.toml];
    const value = table[decl.toml];
    out[prop] = value === undefined ? defaultOf(decl) : decodeDecl(decl, value, keyPath, ctx);
    if (decl.kind !== 'table' && decl.kind !== 'tableArray' && decl.unused && !isBlank(out[prop], decl.default)) {
      warnUnused(keyPath, ctx);
    }
  }
  keepExtraKeys(out, unknown);
  return out as Infer<S>;
}

function decodeDecl(decl: AnyDecl, value: unknown, path: KeyPath, ctx: DecodeContext): unknown {
  if (decl.kind === 'table') return decodeTable(value, decl.fields, path, ctx);
  if (decl.kind === 'tableArray') {
    if (!Array.isArray(value)) throw configError(ctx, path, `expected a list of tables, got ${describeValue(value)}`);
    return value.map((item: unknown, i) => {
      const shorthand = decl.stringShorthand && typeof item === 'string' ? { [decl.stringShorthand]: item } : item;
      return decodeTable(shorthand, decl.fields, [...path, i], ctx);
    });
  }
  return decodeField(decl, value, path, ctx);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function decodeField(decl: FieldDecl<any>, value: unknown, path: KeyPath, ctx: DecodeContext): unknown {
  const got = decl.secret ? '' : `, got ${describeValue(value)}`;
  const fail = (what: string, at: KeyPath = path) => configError(ctx, at, what);
  const string = (v: unknown, at: KeyPath): string => {
    if (typeof v !== 'string') throw fail(`expected a string${decl.secret ? '' : `, got ${describeValue(v)}`}`, at);
    return v;
  };
  const oneOf = (v: unknown, at: KeyPath): string => {
    const s = string(v, at);
    if (!decl.values?.includes(s)) throw fail(`${JSON.stringify(s)} is not one of ${decl.values?.join(', ')}`, at);
    return s;
  };
  const list = (v: unknown): unknown[] => {
    if (!Array.isArray(v)) throw fail(`expected a list of strings${got}`);
    return v;
  };
  switch (decl.kind) {
    case 'string':
      return string(value, path);
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw fail(`expected a whole number${got}`);
      if (decl.min !== undefined && value < decl.min) throw fail(`${value} is not allowed: use ${decl.min} or more`);
      return value;
    case 'bool':
    case 'optBool':
      if (typeof value !== 'boolean') throw fail(`expected true or false${got}`);
      return value;
    case 'stringList':
      return list(value).map((v, i) => string(v, [...path, i]));
    case 'enum':
      return oneOf(value, path);
    case 'enumList':
      return typeof value === 'string' ? [oneOf(value, path)] : list(value).map((v) => oneOf(v, path));
    case 'stringMap':
      return mapValues(value, path, ctx, (v, at) => string(v, at));
    case 'boolMap':
      return mapValues(value, path, ctx, (v, at) => {
        if (typeof v !== 'boolean') throw fail(`expected true or false, got ${describeValue(v)}`, at);
        return v;
      });
    case 'stringListMap':
      return mapValues(value, path, ctx, (v, at) => {
        if (!Array.isArray(v)) throw fail(`expected a list of strings, got ${describeValue(v)}`, at);
        return v.map((s: unknown, i) => string(s, [...at, i]));
      });
    case 'duration':
      return decodeDuration(value, () => fail(`${describeValue(value)} is not a duration: use Go syntax such as "90s", "15m" or "1h30m"`));
    case 'datetime':
      if (value instanceof Date) return toIsoDateTime(value);
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return toIsoDateTime(new Date(value));
      throw fail(`expected a date-time such as 2024-01-31T12:00:00Z${got}`);
    case 'rawTable':
      return structuredClone(asTable(value, path, ctx));
  }
}

function decodeDuration(value: unknown, fail: () => Error): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value / 1e6; // Go: integer nanoseconds
  const ms = typeof value === 'string' ? parseGoDuration(value) : undefined;
  if (ms === undefined) throw fail();
  return ms;
}

function mapValues<T>(value: unknown, path: KeyPath, ctx: DecodeContext, each: (v: unknown, at: KeyPath) => T): Record<string, T> {
  const table = asTable(value, path, ctx);
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, each(v, [...path, k])]));
}

function asTable(value: unknown, path: KeyPath, ctx: DecodeContext): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) {
    throw configError(ctx, path, `expected a table, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

function warnUnused(path: KeyPath, ctx: DecodeContext): void {
  const schemaPath = path.filter((p) => typeof p === 'string').join('.');
  if (ctx.unusedWarned.has(schemaPath)) return;
  ctx.unusedWarned.add(schemaPath);
  addWarning(ctx, path, `${displayKey(path)} is accepted for compatibility with gitlab-runner but berth does not use it`);
}

function displayKey(path: KeyPath): string {
  return path.filter((p) => typeof p === 'string').join('.');
}

/**
 * A value that changes nothing: the default, or a table of only zero values (gitlab-runner writes
 * `[runners.cache]` with `MaxUploadedArchiveSize = 0` and empty sub-tables into every config).
 */
function isBlank(value: unknown, fallback: unknown): boolean {
  if (sameValue(value, fallback)) return true;
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.values(value).every((v) => isBlank(v, undefined));
  return value === '' || value === 0 || value === false;
}

/** Deep equality of plain config values (strings, numbers, booleans, null, arrays, tables). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}
