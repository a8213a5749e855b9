/**
 * config.toml text → typed config: TOML syntax, the schema, then the rules that need more than
 * one key (the executor), then `$VAR` expansion of `url` and `token` (gitlab-runner !6068).
 */
import { parse, TomlError } from 'smol-toml';
import { expandString } from '../shared/expand-string.js';
import { InputError } from '../shared/errors.js';
import type { BerthConfig, RunnerConfig } from './berth-config.js';
import { checkCacheConfig } from './check-cache-config.js';
import { configError, type ConfigWarning } from './config-issues.js';
import { decodeTable, type DecodeContext } from './decode-table.js';
import { globalSchema } from './runner-schema.js';
import { TomlLineIndex } from './toml-lines.js';

export interface ParseOptions {
  /** Shown in messages. */
  file: string;
  /** For `$VAR` in `url` and `token`. */
  env: NodeJS.ProcessEnv;
  /** A `--template-config` file: runners need no executor (the command line gives it). */
  template?: boolean;
}

export interface ParsedConfig {
  config: BerthConfig;
  warnings: ConfigWarning[];
}

export function parseConfig(text: string, opts: ParseOptions): ParsedConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new InputError(`${opts.file}:${err.line}:${err.column}: invalid TOML: ${reason}`, { file: opts.file, line: err.line }, { cause: err });
  }
  const ctx: DecodeContext = { file: opts.file, lines: new TomlLineIndex(text), warnings: [], unusedWarned: new Set() };
  const config = decodeTable(raw, globalSchema, [], ctx) as BerthConfig;
  config.runners.forEach((runner, i) => {
    if (!opts.template) checkExecutor(runner, i, ctx);
    checkCacheConfig(runner, i, ctx);
    expandCredentials(runner, opts.env);
  });
  return { config, warnings: ctx.warnings };
}

function checkExecutor(runner: RunnerConfig, index: number, ctx: DecodeContext): void {
  if (runner.executor === 'docker') return;
  const path = runner.executor ? ['runners', index, 'executor'] : ['runners', index];
  if (!runner.executor) throw configError(ctx, path, 'executor is missing: set executor = "docker" (berth runs every job in Docker)');
  throw configError(
    ctx,
    path,
    `${JSON.stringify(runner.executor)} is not supported: berth runs every job in Docker. Set executor = "docker" or remove this runner`,
  );
}

/** Expands `$VAR` / `${VAR}` in `url` and `token` from `env`, keeping the original text for saving. */
export function expandCredentials(runner: RunnerConfig, env: NodeJS.ProcessEnv): void {
  for (const key of ['url', 'token'] as const) {
    const text = runner[key];
    if (!text.includes('$')) continue;
    runner.expandedFrom = { ...runner.expandedFrom, [key]: text };
    runner[key] = expandEnv(text, env);
  }
}

export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return expandString(text, (name) => env[name]);
}
