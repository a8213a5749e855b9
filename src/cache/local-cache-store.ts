/**
 * The runner's local cache: `<cacheDir>/<key>/cache.zip` with `metadata.json` next to it
 * (`{"cachekey":"<key>"}` plus the object's `x-*-meta-*` headers after a download; gitlab-runner
 * shells/abstract.go getArchivePath, commands/helpers/cache_metadata.go). Every file is written
 * to a temporary file in the same folder and renamed into place, so a reader (another job of
 * this runner) sees the old or the new archive, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { errorMessage } from '../shared/errors.js';
import { CacheError } from './cache-error.js';

export const ARCHIVE_NAME = 'cache.zip';
export const METADATA_NAME = 'metadata.json';

export type CacheMetadata = Record<string, string>;

export class LocalCacheStore {
  readonly cacheDir: string;

  constructor(cacheDir: string) {
    this.cacheDir = resolve(cacheDir);
  }

  /**
   * `<cacheDir>/<key>/cache.zip`. The caller sanitised the key (gitlab-runner cache/cachekey);
   * one that would still leave the cache folder is refused with a CacheError.
   */
  archivePath(key: string): string {
    const folder = resolve(this.cacheDir, key);
    const rel = relative(this.cacheDir, folder);
    if (!key || key.includes('\0') || !rel || rel === '..' || rel.startsWith(`..${sep}`) || resolve(this.cacheDir, rel) !== folder) {
      throw new CacheError(`Cache key ${JSON.stringify(key)} is refused: it does not name a folder inside the cache directory ${this.cacheDir}`);
    }
    return join(folder, ARCHIVE_NAME);
  }

  /** The archive's modification time, or null when there is none. */
  async modified(key: string): Promise<Date | null> {
    const info = await stat(this.archivePath(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    return info?.isFile() ? info.mtime : null;
  }

  /** Copies the finished archive at `file` into place (the caller keeps `file`); returns the archive path. */
  async store(key: string, file: string, metadata: CacheMetadata = { cachekey: key }): Promise<string> {
    const temp = await this.tempFile(key);
    try {
      await copyFile(file, temp);
    } catch (err) {
      await rm(temp, { force: true });
      throw new CacheError(`Failed to copy the cache archive into ${dirname(temp)}: ${errorMessage(err)}`, { cause: err });
    }
    return this.commit(key, temp, null, metadata);
  }

  /** A new temporary file's path next to the key's archive (its folder is created). */
  async tempFile(key: string): Promise<string> {
    const archive = this.archivePath(key);
    try {
      await mkdir(dirname(archive), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new CacheError(`Failed to create the cache folder ${dirname(archive)}: ${errorMessage(err)}`, { cause: err });
    }
    return join(dirname(archive), `.${ARCHIVE_NAME}.${randomBytes(6).toString('hex')}.tmp`);
  }

  /**
   * Renames `temp` (from tempFile) over the key's archive, with `mtime` when given, then writes
   * metadata.json. Removes `temp` when that fails.
   */
  async commit(key: string, temp: string, mtime: Date | null, metadata: CacheMetadata): Promise<string> {
    const archive = this.archivePath(key);
    try {
      if (mtime) await utimes(temp, new Date(), mtime);
      await rename(temp, archive);
      await this.writeMetadata(key, metadata);
    } catch (err) {
      await rm(temp, { force: true });
      throw new CacheError(`Failed to store the cache archive ${archive}: ${errorMessage(err)}`, { cause: err });
    }
    return archive;
  }

  private async writeMetadata(key: string, metadata: CacheMetadata): Promise<void> {
    const path = join(dirname(this.archivePath(key)), METADATA_NAME);
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(metadata), { mode: 0o600 });
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
}
