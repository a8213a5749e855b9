/**
 * `cache:` as GitLab's config entries check it (lib/gitlab/ci/config/entry/caches.rb, cache.rb,
 * key.rb, files.rb, prefix.rb, validators.rb KeyValidator): a map or a list of at most 4 maps with
 * key (a string, or `{files: [1 or 2 paths or globs], prefix}`, or `{files_commits: [1 or 2
 * paths], prefix}`), paths, untracked, policy, when,
 * fallback_keys (at most 5) and unprotect. Defaults as GitLab's Entry::Cache#value: key `default`,
 * policy `pull-push`, when `on_success`.
 */
import type { FileWhen } from '../../job/job-spec.js';
import { flattenList } from './flatten-list.js';
import { expectBoolean } from './keyword-values.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { describeType, isMap, type YamlMap, type YamlValue } from '../load/yaml-value.js';

export type CacheKeyConfig =
  | { kind: 'literal'; value: string }
  /** `files`: blob ids of the matched files; `files_commits`: the last commit of each path. */
  | { kind: 'files'; source: 'files' | 'files_commits'; files: string[]; prefix: string | null };

export interface CacheConfig {
  key: CacheKeyConfig;
  /** null: not written. */
  paths: string[] | null;
  untracked: boolean | null;
  /** `pull-push`, `push`, `pull`, a $VARIABLE, or '' (written blank). */
  policy: string;
  when: FileWhen;
  fallbackKeys: string[];
  /** Checked but without effect for berth exec: there are no protected refs on this side. */
  unprotect: boolean;
}

/** GitLab's MULTIPLE_CACHE_LIMIT. */
export const MULTIPLE_CACHE_LIMIT = 4;
const CACHE_KEYS = ['key', 'untracked', 'paths', 'when', 'policy', 'unprotect', 'fallback_keys'];
const CACHE_WHEN = ['on_success', 'on_failure', 'always'];
/**
 * GitLab's ALLOWED_POLICY is `/pull-push|push|pull|\$\w{1,255}*\/`, matched unanchored: any text
 * holding "pull", "push" or "$" passes (the runner then refuses an unknown policy).
 */
const ALLOWED_POLICY = /pull|push|\$/;

export function parseCache(value: YamlValue | undefined, owner: string, positions: SourcePositions, where: Where | undefined): CacheConfig[] {
  if (value === undefined || value === null) return [];
  const what = `${owner}: cache`;
  if (Array.isArray(value)) {
    if (value.length > MULTIPLE_CACHE_LIMIT) throw configError(where, `${what} config no more than ${MULTIPLE_CACHE_LIMIT} caches can be created`, 'cache');
    // Entry::Caches is a ComposableArray: nested lists (`- !reference [...]`) are flattened.
    return flattenList(value, positions, where).map(({ value: item, where: at }, i) => parseOne(item, `${what}:${i}`, positions, at));
  }
  if (!isMap(value)) throw configError(where, `${what} config can only be a Hash or an Array, not ${describeType(value)}`, 'cache');
  return [parseOne(value, what, positions, where)];
}

function parseOne(value: YamlValue, what: string, positions: SourcePositions, where: Where | undefined): CacheConfig {
  if (!isMap(value)) throw configError(where, `${what} config should be a hash, not ${describeType(value)}`, 'cache');
  unknownKeys(value, CACHE_KEYS, what, positions);
  const at = (key: string): Where | undefined => positions.key(value, key) ?? where;
  const cache: CacheConfig = { key: { kind: 'literal', value: 'default' }, paths: null, untracked: null, policy: 'pull-push', when: 'on_success', fallbackKeys: [], unprotect: false };
  if (value.key !== undefined && value.key !== null) cache.key = parseKey(value.key, `${what}:key`, positions, at('key'));
  if (value.paths !== undefined && value.paths !== null) cache.paths = stringArray(value.paths, `${what}:paths`, at('paths'));
  if (value.untracked !== undefined && value.untracked !== null) cache.untracked = expectBoolean(value.untracked, `${what}:untracked`, at('untracked'), 'cache');
  if (value.unprotect !== undefined && value.unprotect !== null) cache.unprotect = expectBoolean(value.unprotect, `${what}:unprotect`, at('unprotect'), 'cache');
  if (value.policy !== undefined && value.policy !== null) {
    if (typeof value.policy !== 'string') throw configError(at('policy'), `${what}:policy should be a string, not ${describeType(value.policy)}`, 'cache');
    if (value.policy !== '' && !ALLOWED_POLICY.test(value.policy)) {
      throw configError(at('policy'), `${what}:policy should be a variable or one of: pull-push, push, pull`, 'cache');
    }
    cache.policy = value.policy;
  }
  if (value.when !== undefined && value.when !== null) {
    if (typeof value.when !== 'string' || !CACHE_WHEN.includes(value.when)) {
      throw configError(at('when'), `${what}:when should be one of: ${CACHE_WHEN.join(', ')}`, 'cache');
    }
    cache.when = value.when as FileWhen;
  }
  if (value.fallback_keys !== undefined && value.fallback_keys !== null) {
    cache.fallbackKeys = stringArray(value.fallback_keys, `${what}:fallback_keys`, at('fallback_keys'));
    // GitLab's message, spelling included.
    if (cache.fallbackKeys.length > 5) throw configError(at('fallback_keys'), `${what}:fallback_keys has to many entries (maximum 5)`, 'cache');
  }
  return cache;
}

function parseKey(value: YamlValue, what: string, positions: SourcePositions, where: Where | undefined): CacheKeyConfig {
  if (typeof value === 'string') return { kind: 'literal', value: checkKey(value, what, where) };
  if (!isMap(value)) throw configError(where, `${what} should be a hash, a string or a symbol`, 'cache');
  unknownKeys(value, ['files', 'files_commits', 'prefix'], what, positions);
  // GitLab's ComplexKey: only_one_of_keys files, files_commits.
  if ((value.files === undefined) === (value.files_commits === undefined)) {
    throw configError(where, `${what} config must use exactly one of these keys: files, files_commits`, 'cache');
  }
  const source = value.files !== undefined ? 'files' : 'files_commits';
  const filesAt = positions.key(value, source) ?? where;
  const written = stringArray(value[source] ?? null, `${what}:${source}`, filesAt);
  if (written.length < 1) throw configError(filesAt, `${what}:${source} config requires at least 1 item`, 'cache');
  if (written.length > 2) throw configError(filesAt, `${what}:${source} config has too many items (maximum is 2)`, 'cache');
  // Entry::Files#value (used for files and files_commits): leading slashes dropped, `/a.lock` is `a.lock`.
  const files = written.map((f) => f.replace(/^\/+/, ''));
  let prefix: string | null = null;
  if (value.prefix !== undefined && value.prefix !== null) {
    const prefixAt = positions.key(value, 'prefix') ?? where;
    if (typeof value.prefix !== 'string') throw configError(prefixAt, `${what}:prefix config must be a string`, 'cache');
    prefix = checkKey(value.prefix, `${what}:prefix`, prefixAt);
  }
  return { kind: 'files', source, files, prefix };
}

/** GitLab's KeyValidator: after URL-decoding (CGI.unescape), no '/' and not '.' or '..'. */
function checkKey(key: string, what: string, where: Where | undefined): string {
  const decoded = cgiUnescape(key);
  if (decoded.includes('/')) throw configError(where, `${what} config cannot contain the "/" character`, 'cache');
  if (decoded === '.' || decoded === '..') throw configError(where, `${what} config cannot be "." or ".."`, 'cache');
  return key;
}

/** Ruby's CGI.unescape: '+' is a space, %XX a byte (invalid escapes stay as written). */
function cgiUnescape(text: string): string {
  const bytes: number[] = [];
  const spaced = text.replace(/\+/g, ' ');
  for (let i = 0; i < spaced.length; i++) {
    const hex = spaced.slice(i + 1, i + 3);
    if (spaced[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(spaced[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('latin1');
}

function stringArray(value: YamlValue, what: string, where: Where | undefined): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw configError(where, `${what} should be an array of strings`, 'cache');
}

function unknownKeys(map: YamlMap, allowed: readonly string[], what: string, positions: SourcePositions): void {
  const unknown = Object.keys(map).filter((k) => !allowed.includes(k));
  if (unknown.length) throw configError(positions.key(map, unknown[0]!), `${what} config contains unknown keys: ${unknown.join(', ')}`, 'cache');
}
