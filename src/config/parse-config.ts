/**
 * config.toml text → typed config: TOML syntax, the schema, then the rules that need more than
 * one key (the executor: runners with another executor are skipped), then `$VAR` expansion of
 * `url` and `token` (gitlab-runner !6068).
 */
import { parse, TomlError } from 'smol-toml';
import { expandString } from '../shared/expand-string.js';
import { InputError } from '../shared/errors.js';
import type { BerthConfig, RunnerConfig, SkippedRunner } from './berth-config.js';
import { checkCacheConfig } from './check-cache-config.js';
import { addWarning, configError, type ConfigWarning } from './config-issues.js';
import { decodeTable, type DecodeContext } from './decode-table.js';
import { LOG_LEVEL_NAMES, parseLogLevel } from './log-level.js';
import { globalSchema, runnerSchema } from './runner-schema.js';
import { isTable } from './toml-text.js';
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
  const entries = Array.isArray(raw['runners']) ? (raw['runners'] as unknown[]) : undefined;
  const config = decodeTable(entries ? { ...raw, runners: [] } : raw, globalSchema, [], ctx) as BerthConfig;
  if (config.logLevel && !parseLogLevel(config.logLevel)) {
    throw configError(ctx, ['log_level'], `${JSON.stringify(config.logLevel)} is not a log level: use one of ${LOG_LEVEL_NAMES.join(', ')} (in any case)`);
  }
  const order: (RunnerConfig | SkippedRunner)[] = [];
  entries?.forEach((entry, i) => {
    const skipped = opts.template ? undefined : skippedRunner(entry, i, ctx);
    if (skipped) {
      order.push(skipped);
      return;
    }
    const runner = decodeTable(entry, runnerSchema, ['runners', i], ctx) as RunnerConfig;
    if (!opts.template) checkExecutor(runner, i, ctx);
    checkCacheConfig(runner, i, ctx);
    expandCredentials(runner, opts.env);
    config.runners.push(runner);
    order.push(runner);
  });
  if (order.length !== config.runners.length) config.runnerOrder = order;
  return { config, warnings: ctx.warnings };
}

/**
 * A runner with another executor than docker: gitlab-runner loads any executor, so a mixed file is
 * valid. berth skips it with a warning and keeps it as it is for saving.
 */
function skippedRunner(entry: unknown, index: number, ctx: DecodeContext): SkippedRunner | undefined {
  if (!isTable(entry)) return undefined;
  const { executor, name } = entry;
  if (typeof executor !== 'string' || !executor || executor === 'docker') return undefined;
  const who = typeof name === 'string' && name ? ` ${JSON.stringify(name)}` : '';
  addWarning(
    ctx,
    ['runners', index, 'executor'],
    `[[runners]][${index}]${who}: executor ${JSON.stringify(executor)} is not supported by berth (it runs every job in Docker): this runner is skipped and kept as it is in the file`,
  );
  return { skipped: true, name: typeof name === 'string' ? name : '', executor, table: entry };
}

function checkExecutor(runner: RunnerConfig, index: number, ctx: DecodeContext): void {
  if (!runner.executor) {
    throw configError(ctx, ['runners', index], 'executor is missing: set executor = "docker" (berth runs every job in Docker)');
  }
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
