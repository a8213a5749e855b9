/**
 * Errors and warnings about a config file, all in one form: `<file>:<line>: <key path>: <what>`.
 */
import { InputError } from '../shared/errors.js';
import type { KeyPath, TomlLineIndex } from './toml-lines.js';

export interface ConfigWarning {
  /** The whole line to show, starting with `<file>:<line>:`. */
  message: string;
  file: string;
  line?: number;
  /** The key path as shown (`[[runners]][0].docker.image`). */
  key?: string;
}

/** Where in which file: what decode and the checks after it need to report. */
export interface IssueSink {
  file: string;
  lines: TomlLineIndex;
  warnings: ConfigWarning[];
}

/** `[[runners]][0].docker.services[1].name` */
export function displayPath(path: KeyPath): string {
  let out = '';
  path.forEach((seg, i) => {
    if (typeof seg === 'number') out = i === 1 ? `[[${out}]][${seg}]` : `${out}[${seg}]`;
    else out = out ? `${out}.${seg}` : seg;
  });
  return out;
}

function where(sink: IssueSink, path: KeyPath): { prefix: string; line: number | undefined; key: string } {
  const line = sink.lines.lineOf(path);
  const key = displayPath(path);
  return { prefix: line === undefined ? sink.file : `${sink.file}:${line}`, line, key };
}

/** An InputError naming file, line and key: `config.toml:14: [[runners]][0].docker.pull_policy: <message>`. */
export function configError(sink: IssueSink, path: KeyPath, message: string): InputError {
  const w = where(sink, path);
  const text = path.length ? `${w.prefix}: ${w.key}: ${message}` : `${w.prefix}: ${message}`;
  return new InputError(text, { file: sink.file, ...(w.line !== undefined ? { line: w.line } : {}), key: w.key });
}

export function addWarning(sink: IssueSink, path: KeyPath, message: string): void {
  const w = where(sink, path);
  sink.warnings.push({ message: `${w.prefix}: ${message}`, file: sink.file, ...(w.line !== undefined ? { line: w.line } : {}), key: w.key });
}

/** A value for a message: strings quoted, tables and lists named. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a table';
  return String(value);
}
