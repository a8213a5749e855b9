/**
 * Reads config.toml. Returns the typed config and the warnings (unknown keys, keys berth does not
 * use, a file other users can read); printing them is the caller's job.
 */
import { readFile, stat } from 'node:fs/promises';
import { BerthError, errorMessage, InputError } from '../shared/errors.js';
import { newConfig, type BerthConfig } from './berth-config.js';
import type { ConfigWarning } from './config-issues.js';
import { parseConfig } from './parse-config.js';

export interface LoadOptions {
  /** For `$VAR` in `url` and `token` (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** A `--template-config` file (see parseConfig). */
  template?: boolean;
  /** A missing file gives a new, empty config instead of an error (register). */
  allowMissing?: boolean;
}

export interface LoadedConfig {
  config: BerthConfig;
  warnings: ConfigWarning[];
  /** mtime of the file that was read (0 when it did not exist). */
  mtimeMs: number;
}

export async function loadConfig(path: string, opts: LoadOptions = {}): Promise<LoadedConfig> {
  let mode: number;
  let mtimeMs: number;
  try {
    ({ mode, mtimeMs } = await stat(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw readError(path, err);
    if (opts.allowMissing) return { config: newConfig(), warnings: [], mtimeMs: 0 };
    throw new InputError(`Config file ${path} does not exist: register a runner with "berth register", or pass --config`, { file: path }, { cause: err });
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw readError(path, err);
  }
  const parsed = parseConfig(text, { file: path, env: opts.env ?? process.env, ...(opts.template ? { template: true } : {}) });
  const modeWarning = permissionWarning(path, mode);
  return { ...parsed, warnings: modeWarning ? [modeWarning, ...parsed.warnings] : parsed.warnings, mtimeMs };
}

/** config.toml holds runner tokens: warn when group or others may read or write it. */
export function permissionWarning(path: string, mode: number): ConfigWarning | undefined {
  const open = mode & 0o077;
  if (!open) return undefined;
  const what = open & 0o044 ? 'readable' : 'writable';
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return { message: `${path} is ${what} by other users (mode ${octal}): run chmod 600 ${path}`, file: path };
}

function readError(path: string, err: unknown): BerthError {
  return new BerthError('config_read', `Failed to read config file ${path}: ${errorMessage(err)}`, { cause: err });
}
