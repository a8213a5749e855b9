/**
 * `berth exec`'s cache: `.berth/cache/<key>/cache.zip` in the repository, the same layout as a
 * runner's local cache (src/cache). The repository is not trusted: before each use the key's
 * folder is made without following links, and `cache.zip`/`metadata.json` must not be links
 * (src/fs-guard), so a planted `.berth/cache/x -> /somewhere` cannot make berth write outside.
 */
import { createCacheTransport } from '../cache/create-cache-transport.js';
import type { CacheTransport } from '../executor/job-files/transports.js';
import { checkWritableUnder, ensureDirUnder } from '../fs-guard/index.js';
import { PROJECT_BERTH_DIR } from '../pipeline/index.js';
import { errorMessage } from '../shared/errors.js';

const CACHE_DIR = `${PROJECT_BERTH_DIR}/cache`;

export async function openLocalCache(root: string): Promise<CacheTransport> {
  const dir = await ensureDirUnder(root, CACHE_DIR);
  const inner = createCacheTransport({ cacheDir: dir, distributed: null, projectId: 0, timeoutSeconds: 3600 });
  const guard = async (key: string): Promise<void> => {
    await ensureDirUnder(root, `${CACHE_DIR}/${key}`);
    for (const name of ['cache.zip', 'metadata.json']) await checkWritableUnder(root, `${CACHE_DIR}/${key}/${name}`);
  };
  return {
    async restore(key, log, signal) {
      try {
        await guard(key);
      } catch (err) {
        log.warning(errorMessage(err));
        return null;
      }
      return inner.restore(key, log, signal);
    },
    async save(key, file, log, signal) {
      try {
        await guard(key);
      } catch (err) {
        log.warning(errorMessage(err));
        return false;
      }
      return inner.save(key, file, log, signal);
    },
  };
}
