/**
 * The payload's `cache[]` GitLab sends for a job's `cache:` (lib/gitlab/ci/pipeline/seed/build/cache.rb,
 * lib/gitlab/ci/build/cache.rb, app/models/ci/build.rb#cache): a string key as written (the
 * runner expands its variables); `key:files` and `key:files_commits` computed now,
 * `<prefix>-<digest>` where the prefix defaults to `<index>_<file names up to their first '.',
 * joined by '_'>` for files (GitLab's fix for gitlab-org/gitlab#388374) and `<index>` for
 * files_commits, and the digest is `default` when nothing matched.
 *
 * berth exec adds no `-protected`/`-non_protected` suffix and no "clear runner caches" index:
 * there is no GitLab project and no protected ref on this side, so `unprotect` has no effect.
 */
import type { CacheSpec } from '../../job/job-spec.js';
import type { CacheConfig } from '../keywords/cache-config.js';
import type { CacheKeyFiles } from '../project/cache-key-files.js';

export async function cacheSpecs(caches: readonly CacheConfig[], keyFiles: CacheKeyFiles): Promise<CacheSpec[]> {
  const out: CacheSpec[] = [];
  for (const [index, cache] of caches.entries()) {
    out.push({
      key: await cacheKey(cache, index, keyFiles),
      untracked: cache.untracked ?? false,
      policy: cache.policy,
      paths: cache.paths ?? [],
      when: cache.when,
      fallbackKeys: cache.fallbackKeys,
    });
  }
  return out;
}

async function cacheKey(cache: CacheConfig, index: number, keyFiles: CacheKeyFiles): Promise<string> {
  const key = cache.key;
  if (key.kind === 'literal') return key.value;
  // GitLab's Build::Cache#cache_prefix looks at `files` only: `files_commits` gets the index alone.
  const custom = key.source === 'files' ? `${index}_${key.files.map((f) => f.split('.')[0]).join('_')}` : String(index);
  const prefix = key.prefix ?? custom;
  const digest = (await (key.source === 'files' ? keyFiles.digest(key.files) : keyFiles.commitsDigest(key.files))) ?? 'default';
  return [prefix, digest].filter((part) => part !== '').join('-');
}
