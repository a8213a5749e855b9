/**
 * Cache keys and cache policies as gitlab-runner handles them when it writes the restore_cache
 * and archive_cache stages (shells/abstract.go newCacheConfig, cacheExtractor, archiveCache,
 * extractCacheOrFallbackCachesWrapper; cache/cachekey/cachekey.go Sanitize; common/spec/spec.go
 * CheckPolicy). Pure functions: the caller expands variables and writes the returned lines.
 */
import { createHash } from 'node:crypto';
import { JobFailure } from '../job/job-result.js';
import type { FileWhen } from '../job/job-spec.js';
import { BerthError } from '../shared/errors.js';
import { goQuote } from './go-quote.js';

/** A cache key that cannot be used; the message is gitlab-runner's. */
export class CacheKeyError extends BerthError {
  constructor(message: string) {
    super('cache_key_invalid', message);
  }
}

/**
 * One line the runner prints about a cache key: `warning` lines are yellow (`w.Warningf`),
 * `notice` lines bold green (`w.Noticef`) in shells/abstract.go.
 */
export interface CacheLogLine {
  level: 'warning' | 'notice';
  text: string;
}

/** Which stage a key is resolved for; it only changes the "Skipping cache ..." notice. */
export type CachePhase = 'extraction' | 'archiving';

export type CachePolicy = 'pull-push' | 'pull' | 'push';

// cache/cachekey/cachekey.go: one pass that decodes %2f/%2F and %2e/%2E and turns `\` into `/`.
const ENCODED = /%2[fFeE]|\\/g;

// Go's unicode.IsSpace (not JavaScript's \s, which also holds U+FEFF).
const TRAILING_GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/u;

/** Go's path.Clean("/" + p) for a path that is made rooted: `..` never climbs above `/`. */
function cleanRooted(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

/**
 * gitlab-runner's cachekey.Sanitize (cache/cachekey/cachekey.go), used while FF_HASH_CACHE_KEYS is
 * off (the default): decode `%2f`/`%2F` to `/` and `%2e`/`%2E` to `.`, turn `\` into `/`, resolve
 * `.` and `..` against a virtual root (so the key never leaves the cache folder), drop the
 * leading `/`, then trim trailing whitespace from the rightmost segments, dropping those that end
 * up empty. There is no character allow-list and no length limit.
 *
 * An empty key stays empty (as in the runner: the caller then skips the cache with "empty cache
 * key"); a non-empty key that sanitizes to nothing throws CacheKeyError
 * `cache key "<raw>" could not be sanitized`.
 */
export function sanitizeCacheKey(raw: string): string {
  if (raw === '') return '';
  const decoded = raw.replace(ENCODED, (m) => (m === '\\' ? '/' : m[2] === 'f' || m[2] === 'F' ? '/' : '.'));
  const parts = cleanRooted(decoded).slice(1).split('/');
  let n = parts.length;
  while (n > 0) {
    const trimmed = parts[n - 1]!.replace(TRAILING_GO_SPACE, '');
    parts[n - 1] = trimmed;
    if (trimmed !== '') break;
    n--;
  }
  const key = parts.slice(0, n).join('/');
  if (key === '') throw new CacheKeyError(`cache key ${goQuote(raw)} could not be sanitized`);
  return key;
}

/**
 * The yellow line gitlab-runner prints when sanitizing changed a key
 * (`cache key "<raw>" sanitized to "<new>"`, shells/abstract.go newCacheConfig); null when the key
 * is unchanged.
 */
export function cacheKeySanitizedWarning(raw: string, sanitized: string): string | null {
  if (raw === sanitized) return null;
  return `cache key ${goQuote(raw)} sanitized to ${goQuote(sanitized)}`;
}

/**
 * The key the runner uses when the payload's key is empty: `<job name>/<git ref>` joined and
 * cleaned like Go's path.Join("/", name, ref)[1:] (shells/abstract.go newCacheConfig).
 */
export function defaultCacheKey(jobName: string, ref: string): string {
  return cleanRooted(`${jobName}/${ref}`).slice(1);
}

/**
 * The key to resolve for a cache entry (shells/abstract.go newCacheConfig): the payload's key
 * expanded with the job's variables, or `<job name>/<git ref>` when the payload's key is empty.
 */
export function rawCacheKey(payloadKey: string, jobName: string, ref: string, expand: (text: string) => string): string {
  return payloadKey === '' ? defaultCacheKey(jobName, ref) : expand(payloadKey);
}

/**
 * How one cache is named in the stores (gitlab-runner shells/abstract.go cacheConfig): the human
 * key for log lines and the `cachekey` metadata, the key its archive is stored under, and the
 * other naming scheme's key, which gitlab-runner passes as `--alternate-url` to cache-extractor
 * (the remote object is taken from there when the primary one is missing or older) and as
 * `--alternate-file` to cache-archiver (a local archive under that name is renamed to the primary
 * one when that does not exist), so that flipping FF_HASH_CACHE_KEYS keeps the caches.
 */
export interface CacheName {
  /** The human key: sanitized, or as written with FF_HASH_CACHE_KEYS. */
  key: string;
  /** The key the archive is stored under: `key`, or sha256(key) hex with FF_HASH_CACHE_KEYS. */
  storageKey: string;
  /** The other naming scheme's storage key; null: none (a plain key of a test or of a caller without the flag). */
  alternateKey: string | null;
  /**
   * FF_HASH_CACHE_KEYS: the remote object of `storageKey` is sharded (`<sha[0:2]>/<sha>`, cache/cache.go
   * GetAdapter) and the alternate's is not; without the flag the reverse.
   */
  hashed: boolean;
}

/** A plain key (storage key = human key, no alternate), as callers without FF_HASH_CACHE_KEYS handling pass it. */
export function cacheName(name: CacheName | string): CacheName {
  return typeof name === 'string' ? { key: name, storageKey: name, alternateKey: null, hashed: false } : name;
}

/** The outcome of resolving one cache key, with the lines the runner prints on the way. */
export interface ResolvedCacheKey {
  /** The human key (sanitized unless hashKeys), used in log lines and as the local folder; null = skip. */
  key: string | null;
  /** The key used for the archive path and the remote object: `key`, or sha256(key) with hashKeys. */
  storageKey: string | null;
  /** The other naming scheme's key (sha256 when not hashing, the human key when hashing), for migration. */
  alternateKey: string | null;
  lines: CacheLogLine[];
}

export interface ResolveCacheKeyOptions {
  /** FF_HASH_CACHE_KEYS: no sanitizing; the storage key is the sha256 hex of the key. */
  hashKeys?: boolean;
  /**
   * A check on the human key, run after sanitizing (the runner's keyChecks). Returns null to
   * accept, or the warning to print and skip the key (its warning comes before the sanitize one,
   * as in the runner).
   */
  check?: (key: string) => string | null;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * gitlab-runner's newCacheConfig for one already-expanded key (shells/abstract.go): sanitize,
 * warn when the key changed or could not be sanitized, run the check, and skip an empty key with
 * the green notice `Skipping cache extraction due to empty cache key` (or `... archiving ...`).
 */
export function resolveCacheKey(expandedKey: string, phase: CachePhase, opts: ResolveCacheKeyOptions = {}): ResolvedCacheKey {
  const lines: CacheLogLine[] = [];
  let key = expandedKey;
  let warning: string | null = null;
  if (!opts.hashKeys) {
    try {
      key = sanitizeCacheKey(expandedKey);
      warning = cacheKeySanitizedWarning(expandedKey, key);
    } catch (err) {
      if (!(err instanceof CacheKeyError)) throw err;
      key = '';
      warning = err.message;
    }
  }
  const skip = (): ResolvedCacheKey => ({ key: null, storageKey: null, alternateKey: null, lines });

  const refused = opts.check?.(key) ?? null;
  if (refused !== null) {
    lines.push({ level: 'warning', text: refused });
    if (warning !== null) lines.push({ level: 'warning', text: warning });
    return skip();
  }
  if (warning !== null) lines.push({ level: 'warning', text: warning });
  if (key === '') {
    lines.push({ level: 'notice', text: `Skipping cache ${phase} due to empty cache key` });
    return skip();
  }
  const hashed = sha256Hex(key);
  return {
    key,
    storageKey: opts.hashKeys ? hashed : key,
    alternateKey: opts.hashKeys ? key : hashed,
    lines,
  };
}

/**
 * The runner's check on `CACHE_FALLBACK_KEY` (shells/abstract.go blockProtectedFallback): null
 * when allowed; otherwise the warning `CACHE_FALLBACK_KEY "<key>" not allowed to end in
 * "-protected"`. Trailing `.` and spaces are trimmed before the suffix test, so `x-protected. `
 * is refused too; `x-non_protected` is allowed.
 */
export function fallbackKeyAllowed(key: string): string | null {
  const suffix = '-protected';
  const trimmed = key.replace(/[. ]+$/, '');
  if (!trimmed.endsWith(suffix)) return null;
  return `CACHE_FALLBACK_KEY ${goQuote(key)} not allowed to end in ${goQuote(suffix)}`;
}

/** The keys to restore from, in order, and the lines printed while building the list. */
export interface FallbackOrder {
  /** Human keys: the primary key first, then each usable fallback key. */
  keys: string[];
  /** Storage keys (== keys unless hashKeys), index for index with `keys`. */
  storageKeys: string[];
  /** The full names (with the alternate keys), index for index with `keys`. */
  names: CacheName[];
  lines: CacheLogLine[];
}

export interface FallbackOrderOptions {
  /**
   * Expands `$VAR` with the job's variables (gitlab-runner's ExpandValue): the payload's
   * fallback_keys twice (extractCacheOrFallbackCachesWrapper, then newCacheConfig), the
   * CACHE_FALLBACK_KEY variable's value once (newCacheConfig). Default: no expansion.
   */
  expand?: (text: string) => string;
  hashKeys?: boolean;
}

/**
 * The restore order of one cache (shells/abstract.go extractCacheOrFallbackCachesWrapper): the
 * primary key, then each payload `fallback_keys` entry, then the `CACHE_FALLBACK_KEY` variable's
 * value, which may not end in `-protected` once expanded and sanitized. Empty entries are left out silently; a
 * fallback key that sanitizes to nothing gets its warning and the "Skipping cache extraction due
 * to empty cache key" notice. Duplicates are kept, as in the runner.
 *
 * `primary` is the human key already resolved for the cache (resolveCacheKey(...).key).
 */
export function fallbackOrder(
  primary: { key: string; storageKey: string; alternateKey?: string | null },
  fallbackKeys: readonly string[],
  cacheFallbackKey: string | undefined,
  opts: FallbackOrderOptions = {},
): FallbackOrder {
  const hashed = opts.hashKeys ?? false;
  const order: FallbackOrder = {
    keys: [primary.key],
    storageKeys: [primary.storageKey],
    names: [{ key: primary.key, storageKey: primary.storageKey, alternateKey: primary.alternateKey ?? null, hashed }],
    lines: [],
  };
  const add = (raw: string, check?: (key: string) => string | null): void => {
    if (raw === '') return;
    const resolved = resolveCacheKey(raw, 'extraction', { hashKeys: hashed, ...(check ? { check } : {}) });
    order.lines.push(...resolved.lines);
    if (resolved.key !== null && resolved.storageKey !== null) {
      order.keys.push(resolved.key);
      order.storageKeys.push(resolved.storageKey);
      order.names.push({ key: resolved.key, storageKey: resolved.storageKey, alternateKey: resolved.alternateKey, hashed });
    }
  };
  const expand = opts.expand ?? ((text: string) => text);
  for (const k of fallbackKeys) add(expand(expand(k)));
  add(expand(cacheFallbackKey ?? ''), fallbackKeyAllowed);
  return order;
}

/**
 * The cache policy after variable expansion (common/spec/spec.go CheckPolicy): empty means
 * `pull-push`. Anything else is a script-generation error in the runner, so the job fails as
 * `runner_system_failure` with `unknown cache policy <value> for <key>` (shells/abstract.go wraps
 * the error with the human key; common/build.go setTraceStatus).
 */
export function cachePolicy(value: string, key?: string): CachePolicy {
  if (value === '' || value === 'pull-push') return 'pull-push';
  if (value === 'pull' || value === 'push') return value;
  const message = `unknown cache policy ${value}` + (key === undefined ? '' : ` for ${key}`);
  throw new JobFailure('runner_system_failure', message);
}

/**
 * The notice printed when the policy skips a direction (shells/abstract.go): `Not downloading
 * cache <key> due to policy` for restore under `push`, `Not uploading cache <key> due to policy`
 * for save under `pull`; null when the policy allows the direction.
 */
export function policySkipNotice(policy: CachePolicy, phase: CachePhase, key: string): string | null {
  if (phase === 'extraction' && policy === 'push') return `Not downloading cache ${key} due to policy`;
  if (phase === 'archiving' && policy === 'pull') return `Not uploading cache ${key} due to policy`;
  return null;
}

/**
 * Whether a cache is saved for the job's outcome (common/spec/spec.go CacheWhen.ShouldCache):
 * `on_success` after a success, `on_failure` after a failure, `always` after both, `never` never.
 */
export function shouldCache(when: FileWhen, jobSucceeded: boolean): boolean {
  if (when === 'always') return true;
  return jobSucceeded ? when === 'on_success' : when === 'on_failure';
}
