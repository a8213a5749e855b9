/**
 * Writes config.toml the way gitlab-runner does (its key names, mode 0600, a missing directory
 * created 0700), but atomically: a temporary file in the same directory, synced, then renamed
 * over the old one, so a crash or a full disk never leaves half a config. Like gitlab-runner,
 * saving rewrites the file from the model: comments are lost; keys berth does not know are written
 * back into their table (extra-keys.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BerthError, errorMessage } from '../shared/errors.js';
import type { BerthConfig } from './berth-config.js';
import { encodeConfig } from './encode-config.js';

export interface SaveOptions {
  /** For deciding whether a `$VAR` url/token is written back as `$VAR` (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export async function saveConfig(path: string, config: BerthConfig, opts: SaveOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodeConfig(config, opts.env ?? process.env));
}

/** Replaces `path` with `text` (mode 0600) in one rename; a symlinked path keeps its link. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.chmod(0o600);
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new BerthError('config_save', `Failed to save config file ${path}: ${errorMessage(err)}`, { cause: err });
  }
}
