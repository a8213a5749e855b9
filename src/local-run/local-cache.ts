/**
 * `berth exec`'s cache: `.berth/cache/<key>/cache.zip` in the repository, the same layout as a
 * runner's local cache (src/cache). The repository is not trusted: before each use the key's
 * folder is made without following links, and `cache.zip`/`metadata.json` must not be links
 * (src/fs-guard), so a planted `.berth/cache/x -> /somewhere` cannot make berth write outside.
 */
import { cacheName, type CacheName } from '../artifacts/cache-key.js';
import { LOCAL_STORE_COMPRESSION_LEVEL } from '../artifacts/compression-level.js';
import { createCacheTransport } from '../cache/create-cache-transport.js';
import type { CacheTransport } from '../executor/job-files/transports.js';
import { checkWritableUnder, ensureDirUnder } from '../fs-guard/index.js';
import { PROJECT_BERTH_DIR } from '../pipeline/index.js';
import type { JobLog } from '../log/job-log.js';
import { errorMessage } from '../shared/errors.js';

const CACHE_DIR = `${PROJECT_BERTH_DIR}/cache`;

export async function openLocalCache(root: string): Promise<CacheTransport> {
  const dir = await ensureDirUnder(root, CACHE_DIR);
  const inner = createCacheTransport({ cacheDir: dir, distributed: null, projectId: 0, timeoutSeconds: 3600 });
  // No link anywhere on the way to the key's files; a save makes the key's folder, a restore
  // makes nothing (a key only looked up, a fallback key, leaves no empty folder behind).
  const guard = async (key: string, create: boolean): Promise<void> => {
    if (create) await ensureDirUnder(root, `${CACHE_DIR}/${key}`);
    for (const name of ['cache.zip', 'metadata.json']) await checkWritableUnder(root, `${CACHE_DIR}/${key}/${name}`);
  };
  // A save may rename the archive under the alternate name (FF_HASH_CACHE_KEYS's other naming):
  // that name is dropped unless its files, too, are reached without links.
  const guarded = async (nameIn: CacheName | string, create: boolean): Promise<CacheName> => {
    const name = cacheName(nameIn);
    await guard(name.storageKey, create);
    if (name.alternateKey === null) return name;
    const alternateKey = await guard(name.alternateKey, false).then(
      () => name.alternateKey,
      () => null,
    );
    return { ...name, alternateKey };
  };
  /** `use` of the guarded name; `refused` (after a warning) when the key's files cannot be reached safely. */
  const withGuarded = async <T>(nameIn: CacheName | string, create: boolean, log: JobLog, refused: T, use: (name: CacheName) => Promise<T>): Promise<T> => {
    let name: CacheName;
    try {
      name = await guarded(nameIn, create);
    } catch (err) {
      log.warning(errorMessage(err));
      return refused;
    }
    return use(name);
  };
  return {
    defaultCompressionLevel: LOCAL_STORE_COMPRESSION_LEVEL,
    restore: (nameIn, log, signal) =>
      withGuarded(nameIn, false, log, null, async (name) => {
        // The repository's own folder: whatever is there may have been planted, so zip only.
        const archive = await inner.restore(name, log, signal);
        return archive && { ...archive, writtenByRunners: false };
      }),
    save: (nameIn, file, log, signal) => withGuarded(nameIn, true, log, false, (name) => inner.save(name, file, log, signal)),
    saveWritten: (nameIn, write, log, signal) => withGuarded(nameIn, true, log, false, (name) => inner.saveWritten!(name, write, log, signal)),
  };
}
