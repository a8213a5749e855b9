/**
 * The CacheTransport of one job of `berth run`: the runner's local cache folder, plus the
 * distributed cache when `[runners.cache]` has a usable S3 configuration (gitlab-runner
 * cache/cache.go: no Type, or a type berth cannot use, means no URL: the cache is local only).
 * The archive is written straight into the local cache folder (saveWritten) and renamed into
 * place, then uploaded from there: one write of the zip on berth's disk, as gitlab-runner's
 * cache-archiver (commands/helpers/cache_archiver.go) creates `--file` in place. The presigned
 * PUT keeps its Content-Length (the file's size), as gitlab-runner sends it. When no selected
 * file is newer than the archive already stored, the new one is dropped and the stored one kept
 * (gitlab-runner's `Archive is up to date!`, or its check of the primary object: keepStored).
 */
import { mkdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cacheName, type CacheName } from '../artifacts/cache-key.js';
import type { CacheTransport, CacheWriteOutcome, LocalArchive } from '../executor/job-files/transports.js';
import type { JobLog } from '../log/job-log.js';
import { errorMessage } from '../shared/errors.js';
import type { DistributedCacheSettings } from './cache-settings.js';
import { DistributedCacheStore, type CacheJob, type DistributedCacheStoreOptions } from './distributed-cache-store.js';
import { LocalCacheStore } from './local-cache-store.js';
import { runnerLogLine } from '../log/runner-log-line.js';

export interface CacheTransportOptions extends CacheJob {
  /** The project's cache folder on berth's host (gitlab-runner: `<cache_dir>/<project slug>`). */
  cacheDir: string;
  /** The runner's distributed cache (createDistributedCacheStore), or null for a local cache only. */
  distributed: DistributedCacheStore | null;
}

/**
 * The runner's distributed cache store, or null when `[runners.cache]` gives none berth can use:
 * no Type, gcs or azure (config.toml loading warned about those), or S3 without a bucket.
 * Build it once per runner and share it between jobs.
 */
export function createDistributedCacheStore(
  settings: DistributedCacheSettings,
  shortToken: string,
  deps: Omit<DistributedCacheStoreOptions, 'settings' | 'shortToken'> = {},
): DistributedCacheStore | null {
  if (settings.type !== 's3' || !settings.s3.bucketName) return null;
  return new DistributedCacheStore({ ...deps, settings, shortToken });
}

export function createCacheTransport(opts: CacheTransportOptions): CacheTransport {
  const local = new LocalCacheStore(opts.cacheDir);
  const job: CacheJob = {
    projectId: opts.projectId,
    timeoutSeconds: opts.timeoutSeconds,
    ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
    ...(opts.meterMs ? { meterMs: opts.meterMs } : {}),
  };
  const archive = (path: string): LocalArchive => ({ path, release: () => Promise.resolve(), writtenByRunners: true });
  return {
    async restore(nameIn: CacheName | string, log: JobLog, signal: AbortSignal): Promise<LocalArchive | null> {
      const name = cacheName(nameIn);
      const key = name.storageKey;
      try {
        local.archivePath(key); // refuses a key that would leave the cache folder
        const objectName = opts.distributed?.objectName(key, job, log, name.hashed) ?? null;
        if (opts.distributed && objectName !== null) {
          // shells/abstract.go getAlternateCacheDownloadURL: the other naming scheme's object, named
          // as the other FF_HASH_CACHE_KEYS setting names it (sharded when that setting hashes).
          const alternate = name.alternateKey === null ? null : opts.distributed.alternateObjectName(name.alternateKey, job, !name.hashed);
          const restored = await opts.distributed.restore(name, { primary: objectName, alternate }, job, local, log, signal);
          if (restored === null) return null;
          return { ...archive(restored.path), ...(restored.release ? { release: restored.release } : {}), ...(restored.arriving ? { arriving: restored.arriving } : {}) };
        }
        // cache_extractor.go Execute without a URL; it reads only --file (a local archive under the
        // alternate name is not restored: the next save renames it, see renameAlternate).
        log.println('No URL provided, cache will not be downloaded from shared cache server. Instead a local version of cache will be extracted.');
        if (!(await local.modified(key))) {
          log.warning('Cache file does not exist');
          return null;
        }
        return archive(local.archivePath(key));
      } catch (err) {
        if (signal.aborted) throw err;
        log.warning(errorMessage(err));
        return null;
      }
    },

    async save(nameIn: CacheName | string, file: string, log: JobLog, signal: AbortSignal): Promise<boolean> {
      const name = cacheName(nameIn);
      let stored: string;
      try {
        await renameAlternate(name, log);
        stored = await local.store(name.storageKey, file, { cachekey: name.key });
      } catch (err) {
        if (signal.aborted) throw err;
        log.warning(errorMessage(err));
        return false;
      }
      return upload(name, stored, log, signal);
    },

    async saveWritten(
      nameIn: CacheName | string,
      write: (file: string, stored: Date | null) => Promise<CacheWriteOutcome>,
      log: JobLog,
      signal: AbortSignal,
    ): Promise<boolean> {
      const name = cacheName(nameIn);
      let temp: string;
      let stored: Date | null;
      try {
        await renameAlternate(name, log);
        temp = await local.tempFile(name.storageKey);
        // file_archiver.go isFileChanged: an archive that cannot be looked at counts as changed (a warning).
        stored = await local.modified(name.storageKey).catch((err: unknown) => {
          log.warning(errorMessage(err));
          return null;
        });
      } catch (err) {
        if (signal.aborted) throw err;
        log.warning(errorMessage(err));
        return false;
      }
      let outcome: CacheWriteOutcome;
      try {
        outcome = await write(temp, stored);
      } catch (err) {
        await dropTemp(temp);
        throw err;
      }
      if (outcome !== 'store') {
        await dropTemp(temp);
        return outcome === 'unchanged' ? keepStored(name, log, signal) : true;
      }
      let archive: string;
      try {
        archive = await local.commit(name.storageKey, temp, null, { cachekey: name.key });
      } catch (err) {
        if (signal.aborted) throw err;
        log.warning(errorMessage(err));
        return false;
      }
      return upload(name, archive, log, signal);
    },
  };

  /**
   * cache_archiver.go tryRenameAlternateFile: when there is no archive under the primary name but
   * one under the alternate name (the other FF_HASH_CACHE_KEYS setting's), it is renamed to the
   * primary one (`Renamed alternate cache file to primary`). An alternate name that would leave
   * the cache folder is ignored; a failed rename warns as gitlab-runner does.
   */
  async function renameAlternate(name: CacheName, log: JobLog): Promise<void> {
    if (name.alternateKey === null || name.alternateKey === name.storageKey) return;
    const primary = local.archivePath(name.storageKey);
    let alternate: string;
    try {
      alternate = local.archivePath(name.alternateKey);
    } catch {
      return;
    }
    const primaryError = await stat(primary).then(
      () => null,
      (err: NodeJS.ErrnoException) => err,
    );
    if (primaryError === null) return;
    if (primaryError.code !== 'ENOENT') {
      log.warning(runnerLogLine('Failed to stat primary cache file', { error: errorMessage(primaryError) }, 'WARNING: '));
      return;
    }
    if (!(await stat(alternate).then(() => true, () => false))) return;
    try {
      await mkdir(dirname(primary), { recursive: true, mode: 0o700 });
    } catch (err) {
      log.warning(runnerLogLine('Failed to create directory for cache file rename', { error: errorMessage(err) }, 'WARNING: '));
      return;
    }
    try {
      await rename(alternate, primary);
    } catch (err) {
      log.warning(runnerLogLine('Failed to rename alternate cache file to primary', { error: errorMessage(err) }, 'WARNING: '));
      return;
    }
    log.println('Renamed alternate cache file to primary');
  }

  /**
   * cache_archiver.go Execute when no selected file is newer than the stored archive: that archive
   * stays as it is. Under a name with the other naming scheme's name next to it (FF_HASH_CACHE_KEYS
   * either way: every key but a plain one) the archive may have come from the alternate object, so
   * the primary one may be missing remotely (uploadExistingArchiveIfNeeded): it is HEADed, and the
   * stored archive uploaded when it is not there.
   */
  async function keepStored(name: CacheName, log: JobLog, signal: AbortSignal): Promise<boolean> {
    if (name.alternateKey === null || name.alternateKey === name.storageKey) {
      log.println('Archive is up to date!');
      return true;
    }
    const objectName = opts.distributed?.objectName(name.storageKey, job, log, name.hashed) ?? null;
    if (opts.distributed && objectName !== null && (await opts.distributed.exists(objectName, job, log, signal))) {
      log.println('Primary cache already exists remotely, skipping upload');
      return true;
    }
    log.println('Primary cache does not exist remotely, uploading existing archive');
    return upload(name, local.archivePath(name.storageKey), log, signal, objectName);
  }

  async function upload(
    name: CacheName,
    stored: string,
    log: JobLog,
    signal: AbortSignal,
    objectName = opts.distributed?.objectName(name.storageKey, job, log, name.hashed) ?? null,
  ): Promise<boolean> {
    if (!opts.distributed || objectName === null) {
      // cache_archiver.go uploadArchiveIfNeeded without a URL.
      log.println('No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally.');
      return true;
    }
    return opts.distributed.upload(name.key, objectName, stored, job, log, signal);
  }
}

/** Removes an archive that is not stored, and its key's folder when that is left empty (best effort). */
async function dropTemp(temp: string): Promise<void> {
  await rm(temp, { force: true }).catch(() => undefined);
  await rmdir(dirname(temp)).catch(() => undefined);
}
