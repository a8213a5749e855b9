/**
 * The on-disk cache of fetched includes: `$XDG_CACHE_HOME/berth/includes` (else
 * `~/.cache/berth/includes`, or `--include-cache DIR`). A remote include is stored under the
 * SHA-256 of its URL, so berth exec still works offline; project and component includes keep
 * their bare git repositories under `git/`, with a record per fetched ref (its commit and when it
 * was fetched) and the project's tag list beside them, so that a project whose server cannot be
 * reached is read from the cache. Everything is written through src/fs-guard: the cache is never
 * written through a link, and a link or special file in it is never read.
 */
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
    const real = await resolveInside(this.dir, join(this.dir, 'remote', await keyOf(url))).catch(() => null);
    return real === null ? null : readRegularFile(real, { maxBytes, nofollow: true }).catch(() => null);
  }

  async writeRemote(url: string, body: Buffer): Promise<void> {
    await this.ensureRoot();
    await writeFileUnder(this.dir, `remote/${await keyOf(url)}`, body, { mode: 0o600, dirMode: 0o700 });
  }

  /** A ref fetched earlier: what it pointed at and when (null: none, or the record is unreadable). */
  async readFetchedRef(projectUrl: string, ref: string | null): Promise<FetchedRef | null> {
    const value = await this.readRecord(projectUrl, `ref-${await keyOf(ref ?? '')}`);
    const ok = isRecord(value) && typeof value.sha === 'string' && /^[0-9a-f]{40,64}$/.test(value.sha) && typeof value.fetchedAt === 'string';
    return ok ? { sha: value.sha as string, fetchedAt: value.fetchedAt as string } : null;
  }

  async writeFetchedRef(projectUrl: string, ref: string | null, fetched: FetchedRef): Promise<void> {
    await this.writeRecord(projectUrl, `ref-${await keyOf(ref ?? '')}`, { ref, ...fetched });
  }

  /** The project's tags as last listed, and when (for a component's `~latest` or `1.2`). */
  async readTags(projectUrl: string): Promise<{ tags: string[]; fetchedAt: string } | null> {
    const value = await this.readRecord(projectUrl, 'tags');
    const ok = isRecord(value) && Array.isArray(value.tags) && value.tags.every((t) => typeof t === 'string') && typeof value.fetchedAt === 'string';
    return ok ? { tags: value.tags as string[], fetchedAt: value.fetchedAt as string } : null;
  }

  async writeTags(projectUrl: string, tags: readonly string[], fetchedAt: string): Promise<void> {
    await this.writeRecord(projectUrl, 'tags', { tags, fetchedAt });
  }

  private async readRecord(projectUrl: string, name: string): Promise<unknown> {
    const path = join(this.dir, 'git', `${await keyOf(projectUrl)}.${name}.json`);
    const real = await resolveInside(this.dir, path).catch(() => null);
    if (real === null) return null;
    const bytes = await readRegularFile(real, { maxBytes: 1024 * 1024, nofollow: true }).catch(() => null);
    try {
      return bytes === null ? null : (JSON.parse(bytes.toString('utf8')) as unknown);
    } catch {
      return null; // a record cut short by a concurrent write: as if there were none
    }
  }

  private async writeRecord(projectUrl: string, name: string, value: unknown): Promise<void> {
    await this.ensureRoot();
    await writeFileUnder(this.dir, `git/${await keyOf(projectUrl)}.${name}.json`, JSON.stringify(value), { mode: 0o600, dirMode: 0o700 });
  }

  /** The directory of the bare git repository that caches one project (created, without links). */
  async gitDir(projectUrl: string): Promise<string> {
    await this.ensureRoot();
    return ensureDirUnder(this.dir, `git/${await keyOf(projectUrl)}.git`, { mode: 0o700 });
  }

  private async ensureRoot(): Promise<void> {
    // The cache root itself is the user's choice (like any output path); below it nothing follows a link.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }
}

/** A ref of a project as fetched: its commit, and when (ISO 8601). */
export interface FetchedRef {
  sha: string;
  fetchedAt: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** SHA-256 in hex; node:crypto is loaded on first use (not at start-up: most pipelines need no cache). */
async function keyOf(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}
