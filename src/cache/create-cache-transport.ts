/**
 * The CacheTransport of one job of `berth run`: the runner's local cache folder, plus the
 * distributed cache when `[runners.cache]` has a usable S3 configuration (gitlab-runner
 * cache/cache.go: no Type, or a type berth cannot use, means no URL: the cache is local only).
 * The archive is written straight into the local cache folder (saveWritten) and renamed into
 * place, then uploaded from there: one write of the zip on berth's disk, as gitlab-runner's
 * cache-archiver (commands/helpers/cache_archiver.go) creates `--file` in place. The presigned
 * PUT keeps its Content-Length (the file's size), as gitlab-runner sends it.
 */
import { rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CacheTransport, LocalArchive } from '../executor/job-files/transports.js';
import type { JobLog } from '../log/job-log.js';
import { errorMessage } from '../shared/errors.js';
import type { DistributedCacheSettings } from './cache-settings.js';
import { DistributedCacheStore, type CacheJob, type DistributedCacheStoreOptions } from './distributed-cache-store.js';
import { LocalCacheStore } from './local-cache-store.js';

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
  const job: CacheJob = { projectId: opts.projectId, timeoutSeconds: opts.timeoutSeconds, ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}) };
  const archive = (path: string): LocalArchive => ({ path, release: () => Promise.resolve(), writtenByRunners: true });
  return {
    async restore(key: string, log: JobLog, signal: AbortSignal): Promise<LocalArchive | null> {
      try {
        local.archivePath(key); // refuses a key that would leave the cache folder
        const objectName = opts.distributed?.objectName(key, job, log) ?? null;
        if (opts.distributed && objectName !== null) {
          const path = await opts.distributed.restore(key, objectName, job, local, log, signal);
          return path === null ? null : archive(path);
        }
        // cache_extractor.go Execute without a URL.
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

    async save(key: string, file: string, log: JobLog, signal: AbortSignal): Promise<boolean> {
      let stored: string;
      try {
        stored = await local.store(key, file);
      } catch (err) {
        if (signal.aborted) throw err;
        log.warning(errorMessage(err));
        return false;
      }
      return upload(key, stored, log, signal);
    },

    async saveWritten(key: string, write: (file: string) => Promise<boolean>, log: JobLog, signal: AbortSignal): Promise<boolean> {
      let temp: string;
      try {
        temp = await local.tempFile(key);
      } catch (err) {
        if (signal.aborted) throw err;
        log.warning(errorMessage(err));
        return false;
      }
      let keep: boolean;
      try {
        keep = await write(temp);
      } catch (err) {
        await dropTemp(temp);
        throw err;
      }
      if (!keep) {
        await dropTemp(temp);
        return true;
      }
      let stored: string;
      try {
        stored = await local.commit(key, temp, null, { cachekey: key });
      } catch (err) {
        if (signal.aborted) throw err;
        log.warning(errorMessage(err));
        return false;
      }
      return upload(key, stored, log, signal);
    },
  };

  async function upload(key: string, stored: string, log: JobLog, signal: AbortSignal): Promise<boolean> {
    const objectName = opts.distributed?.objectName(key, job, log) ?? null;
    if (!opts.distributed || objectName === null) {
      // cache_archiver.go uploadArchiveIfNeeded without a URL.
      log.println('No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally.');
      return true;
    }
    return opts.distributed.upload(key, objectName, stored, job, log, signal);
  }
}

/** Removes an archive that is not stored, and its key's folder when that is left empty (best effort). */
async function dropTemp(temp: string): Promise<void> {
  await rm(temp, { force: true }).catch(() => undefined);
  await rmdir(dirname(temp)).catch(() => undefined);
}
