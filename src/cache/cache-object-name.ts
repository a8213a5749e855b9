/**
 * The name of a cache object in the distributed cache (gitlab-runner cache/cache.go GetAdapter):
 * `path.Join(Path, Shared ? "" : "runner/<shortToken>", "project", <projectID>, key)`, e.g.
 * `runner/abcd1234e/project/42/default-protected`. No `cache.zip` suffix. Sharded (the key is
 * FF_HASH_CACHE_KEYS's sha256 hex), the key's first two characters come in between:
 * `project/42/<sha[0:2]>/<sha>`.
 */
import { posix } from 'node:path';

export interface CacheObjectNameInput {
  /** `[runners.cache] Path`. */
  path: string;
  /** `[runners.cache] Shared`: leave out the `runner/<shortToken>` namespace. */
  shared: boolean;
  /** The runner token's short form (gitlab/short-token.ts). */
  shortToken: string;
  projectId: number;
  /** The sanitised cache key, or its sha256 hex. */
  key: string;
  /** Put `key[0:2]/` before the key (gitlab-runner: FF_HASH_CACHE_KEYS's naming); a key shorter than 2 characters has no name. */
  sharded?: boolean;
}

/**
 * The object name, or null when the key is empty or the name would not stay under
 * `<prefix>/project/<id>/` (gitlab-runner: "computed cache path outside of project bucket", and
 * the cache is not used).
 */
export function cacheObjectName(input: CacheObjectNameInput): string | null {
  if (!input.key) return null;
  if (input.sharded && input.key.length < 2) return null; // "cache key too short to shard"
  const base = posix.join(input.path, input.shared ? '' : posix.join('runner', input.shortToken), 'project', String(input.projectId));
  const name = input.sharded ? posix.join(base, input.key.slice(0, 2), input.key) : posix.join(base, input.key);
  return name.startsWith(`${base}/`) ? name : null;
}
