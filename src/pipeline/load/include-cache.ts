/**
 * The on-disk cache of fetched includes: `$XDG_CACHE_HOME/berth/includes` (else
 * `~/.cache/berth/includes`, or `--include-cache DIR`). A remote include is stored under the
 * SHA-256 of its URL, so berth exec still works offline; project and component includes keep
 * their bare git repositories under `git/`. Everything is written through src/fs-guard: the
 * cache is never written through a link, and a link or special file in it is never read.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureDirUnder, readRegularFile, resolveInside, writeFileUnder } from '../../fs-guard/index.js';

/** `$XDG_CACHE_HOME/berth/includes`, else `~/.cache/berth/includes`. */
export function defaultIncludeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'berth', 'includes');
}

export class IncludeCache {
  constructor(readonly dir: string) {}

  /** The cached copy of a remote include, or null (none, or not a regular file). */
  async readRemote(url: string, maxBytes: number): Promise<Buffer | null> {
    const real = await resolveInside(this.dir, join(this.dir, 'remote', keyOf(url))).catch(() => null);
    return real === null ? null : readRegularFile(real, { maxBytes, nofollow: true }).catch(() => null);
  }

  async writeRemote(url: string, body: Buffer): Promise<void> {
    await this.ensureRoot();
    await writeFileUnder(this.dir, `remote/${keyOf(url)}`, body, { mode: 0o600, dirMode: 0o700 });
  }

  /** The directory of the bare git repository that caches one project (created, without links). */
  async gitDir(projectUrl: string): Promise<string> {
    await this.ensureRoot();
    return ensureDirUnder(this.dir, `git/${keyOf(projectUrl)}.git`, { mode: 0o700 });
  }

  private async ensureRoot(): Promise<void> {
    // The cache root itself is the user's choice (like any output path); below it nothing follows a link.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }
}

function keyOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
