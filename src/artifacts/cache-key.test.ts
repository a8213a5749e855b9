import { describe, expect, it } from 'vitest';
import { JobFailure } from '../job/job-result.js';
import {
  CacheKeyError,
  cacheKeySanitizedWarning,
  cachePolicy,
  defaultCacheKey,
  fallbackKeyAllowed,
  fallbackOrder,
  policySkipNotice,
  rawCacheKey,
  resolveCacheKey,
  sanitizeCacheKey,
  shouldCache,
} from './cache-key.js';
import { goQuote } from './go-quote.js';

describe('sanitizeCacheKey (cache/cachekey/cachekey.go Sanitize)', () => {
  const kept: [string, string][] = [
    ['default-protected', 'default-protected'],
    ['main-3-non_protected', 'main-3-non_protected'],
    ['job/ref', 'job/ref'],
    ['...', '...'],
    ['.../....', '.../....'],
    ['unit test 1/8-v13-12-0-2', 'unit test 1/8-v13-12-0-2'],
    ['ключ/ü-☃', 'ключ/ü-☃'],
    ['emoji-🛹', 'emoji-🛹'],
    // Go's unicode.IsSpace does not hold U+FEFF, so it is not trimmed
    ['key\ufeff', 'key\ufeff'],
    // %5C is not decoded
    ['%5C', '%5C'],
    ['%252f', '%252f'],
  ];
  const changed: [string, string][] = [
    ['../x', 'x'],
    ['a/../../b', 'b'],
    ['a/b/c/../../d', 'a/d'],
    ['foo/bar/../../../.././blerp', 'blerp'],
    ['/abs/key', 'abs/key'],
    ['//double//slash', 'double/slash'],
    ['./here', 'here'],
    ['a\\b', 'a/b'],
    ['..\\..\\x', 'x'],
    ['job\\name/git\\ref', 'job/name/git/ref'],
    ['key  /  ', 'key'],
    ['key/', 'key'],
    ['key\\', 'key'],
    ['key / \\o', 'key / /o'],
    [' lead/ trail ', ' lead/ trail'],
    ['\t foo bar \t\r', '\t foo bar'],
    ['foo/ /bar', 'foo/ /bar'],
    ['foo/ / /', 'foo'],
    ['key\u3000', 'key'],
    ['key\u00a0\u2028', 'key'],
    ['a %2F b', 'a / b'],
    ['a%2fb', 'a/b'],
    ['x%2f../job/ref/.', 'job/ref'],
    ['%2E%2E%2E', '...'],
    ['%2e%2e/x', 'x'],
    ['%2e%2e%2f%2e%2e%2fetc', 'etc'],
  ];
  const unsanitizable = ['.', '..', '/', '\\', ' ', ' / ', '//', '../.', '%2e%2e/', '%2E', '.%2E', 'a/b/../..', 'a\\b\\..\\..', ' \t\r\n', '\u3000'];

  it.each(kept)('keeps %j', (raw, want) => {
    expect(sanitizeCacheKey(raw)).toBe(want);
    expect(cacheKeySanitizedWarning(raw, want)).toBeNull();
  });

  it.each(changed)('sanitizes %j to %j', (raw, want) => {
    expect(sanitizeCacheKey(raw)).toBe(want);
  });

  it.each(unsanitizable)('refuses %j', (raw) => {
    expect(() => sanitizeCacheKey(raw)).toThrow(CacheKeyError);
    expect(() => sanitizeCacheKey(raw)).toThrow(`cache key ${goQuote(raw)} could not be sanitized`);
  });

  it('leaves an empty key empty (the caller skips it)', () => {
    expect(sanitizeCacheKey('')).toBe('');
  });

  it('is idempotent and never yields a key that leaves the cache folder', () => {
    for (const [raw] of [...kept, ...changed]) {
      const once = sanitizeCacheKey(raw);
      expect(sanitizeCacheKey(once)).toBe(once);
      expect(once.startsWith('/')).toBe(false);
      expect(once.includes('\\')).toBe(false);
      expect(once.split('/').some((s) => s === '..' || s === '.' || s === '')).toBe(false);
    }
  });
});

describe('goQuote (Go %q)', () => {
  it('quotes like strconv.Quote', () => {
    expect(goQuote('plain')).toBe('"plain"');
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('\t x\r\n')).toBe('"\\t x\\r\\n"');
    expect(goQuote('\x00\x1b\x7f')).toBe('"\\x00\\x1b\\x7f"');
    expect(goQuote('ü☃🛹')).toBe('"ü☃🛹"');
    expect(goQuote('\u00a0\u3000\ufeff')).toBe('"\\u00a0\\u3000\\ufeff"');
  });
});

describe('resolveCacheKey (shells/abstract.go newCacheConfig)', () => {
  it('uses a clean key as it is, with no line', () => {
    expect(resolveCacheKey('default-protected', 'extraction')).toEqual({
      key: 'default-protected',
      storageKey: 'default-protected',
      // printf '%s' default-protected | sha256sum
      alternateKey: '73445e6334b99fb3506bd2949e83a3c02b7cdb648e6264d21388c763d253c5da',
      lines: [],
    });
  });

  it('warns in yellow when sanitizing changed the key', () => {
    const r = resolveCacheKey('../x\\y ', 'extraction');
    expect(r.key).toBe('x/y');
    expect(r.lines).toEqual([{ level: 'warning', text: 'cache key "../x\\\\y " sanitized to "x/y"' }]);
  });

  it('skips a key that cannot be sanitized: the warning, then the notice', () => {
    expect(resolveCacheKey('..', 'archiving')).toEqual({
      key: null,
      storageKey: null,
      alternateKey: null,
      lines: [
        { level: 'warning', text: 'cache key ".." could not be sanitized' },
        { level: 'notice', text: 'Skipping cache archiving due to empty cache key' },
      ],
    });
  });

  it('skips an empty key with the notice only', () => {
    expect(resolveCacheKey('', 'extraction').lines).toEqual([
      { level: 'notice', text: 'Skipping cache extraction due to empty cache key' },
    ]);
  });

  it('with FF_HASH_CACHE_KEYS stores under sha256 of the unsanitized key', () => {
    const r = resolveCacheKey('../weird key ', 'extraction', { hashKeys: true });
    expect(r.key).toBe('../weird key ');
    // sha256("../weird key ") computed independently with `printf '%s' '../weird key ' | sha256sum`
    expect(r.storageKey).toBe('ddd728ac1f61fcb435a4488a3135d80b0941e7c817d34c1933d5f847bb83363c');
    expect(r.alternateKey).toBe('../weird key ');
    expect(r.lines).toEqual([]);
  });
});

describe('defaultCacheKey and rawCacheKey', () => {
  it('joins job name and ref like path.Join("/", name, ref)[1:]', () => {
    expect(defaultCacheKey('build', 'main')).toBe('build/main');
    expect(defaultCacheKey('build 1/3', 'feature/x')).toBe('build 1/3/feature/x');
    expect(defaultCacheKey('../..', 'main')).toBe('main');
    expect(defaultCacheKey('', '')).toBe('');
  });

  it('expands a non-empty payload key and defaults an empty one', () => {
    const expand = (t: string): string => t.replace('$CI_COMMIT_REF_SLUG', 'main');
    expect(rawCacheKey('deps-$CI_COMMIT_REF_SLUG', 'job', 'ref', expand)).toBe('deps-main');
    expect(rawCacheKey('', 'job', 'ref', expand)).toBe('job/ref');
  });
});

describe('fallbackKeyAllowed (blockProtectedFallback)', () => {
  it.each([
    ['main-protected', false],
    ['main-protected.', false],
    ['main-protected. . ', false],
    ['main-non_protected', true],
    ['main-protected-x', true],
    ['protected', true],
    ['-protected', false],
  ])('%j allowed=%s', (key, allowed) => {
    const msg = fallbackKeyAllowed(key);
    if (allowed) expect(msg).toBeNull();
    else expect(msg).toBe(`CACHE_FALLBACK_KEY ${goQuote(key)} not allowed to end in "-protected"`);
  });
});

describe('fallbackOrder (extractCacheOrFallbackCachesWrapper)', () => {
  const primary = { key: 'deps-main-protected', storageKey: 'deps-main-protected' };

  it('is primary, then fallback_keys (expanded), then CACHE_FALLBACK_KEY (expanded)', () => {
    const order = fallbackOrder(primary, ['deps-$REF-protected', '', 'deps-default'], 'global-$REF-non_protected', {
      expand: (t) => t.replace('$REF', 'dev'),
    });
    expect(order.keys).toEqual(['deps-main-protected', 'deps-dev-protected', 'deps-default', 'global-dev-non_protected']);
    expect(order.storageKeys).toEqual(order.keys);
    expect(order.lines).toEqual([]);
  });

  it('expands fallback_keys twice and CACHE_FALLBACK_KEY once, as gitlab-runner (ExpandValue, then newCacheConfig\'s)', () => {
    const vars: Record<string, string> = { OUTER: '$INNER', INNER: 'deep' };
    const expand = (t: string): string => t.replace(/\$([A-Z]+)/g, (_, name: string) => vars[name] ?? '');
    const order = fallbackOrder(primary, ['fb-$OUTER'], 'global-$OUTER', { expand });
    expect(order.keys).toEqual(['deps-main-protected', 'fb-deep', 'global-$INNER']);
    // The -protected check sees the expanded key.
    vars.OUTER = 'x-protected';
    expect(fallbackOrder(primary, [], 'global-$OUTER', { expand }).keys).toEqual(['deps-main-protected']);
  });

  it('refuses a protected CACHE_FALLBACK_KEY, and checks the sanitized key', () => {
    const order = fallbackOrder(primary, [], 'x/../main-protected/ ');
    expect(order.keys).toEqual(['deps-main-protected']);
    expect(order.lines).toEqual([
      { level: 'warning', text: 'CACHE_FALLBACK_KEY "main-protected" not allowed to end in "-protected"' },
      { level: 'warning', text: 'cache key "x/../main-protected/ " sanitized to "main-protected"' },
    ]);
  });

  it('skips a fallback key that sanitizes to nothing, with the runner lines, and keeps going', () => {
    const order = fallbackOrder(primary, ['..', 'b\\c'], undefined);
    expect(order.keys).toEqual(['deps-main-protected', 'b/c']);
    expect(order.lines).toEqual([
      { level: 'warning', text: 'cache key ".." could not be sanitized' },
      { level: 'notice', text: 'Skipping cache extraction due to empty cache key' },
      { level: 'warning', text: 'cache key "b\\\\c" sanitized to "b/c"' },
    ]);
  });

  it('hashes fallback keys with FF_HASH_CACHE_KEYS', () => {
    const order = fallbackOrder(primary, ['a'], undefined, { hashKeys: true });
    expect(order.keys).toEqual(['deps-main-protected', 'a']);
    expect(order.storageKeys[1]).toBe('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
  });
});

describe('cachePolicy (CheckPolicy) and policySkipNotice', () => {
  it('maps the known values', () => {
    expect(cachePolicy('')).toBe('pull-push');
    expect(cachePolicy('pull-push')).toBe('pull-push');
    expect(cachePolicy('pull')).toBe('pull');
    expect(cachePolicy('push')).toBe('push');
  });

  it('fails the job as runner_system_failure on anything else', () => {
    let err: unknown;
    try {
      cachePolicy('Pull', 'default-protected');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JobFailure);
    expect((err as JobFailure).reason).toBe('runner_system_failure');
    expect((err as JobFailure).message).toBe('unknown cache policy Pull for default-protected');
    expect(() => cachePolicy('$UNSET_POLICY')).toThrow('unknown cache policy $UNSET_POLICY');
  });

  it('says which direction the policy skips', () => {
    expect(policySkipNotice('push', 'extraction', 'k')).toBe('Not downloading cache k due to policy');
    expect(policySkipNotice('pull', 'archiving', 'k')).toBe('Not uploading cache k due to policy');
    expect(policySkipNotice('pull', 'extraction', 'k')).toBeNull();
    expect(policySkipNotice('pull-push', 'archiving', 'k')).toBeNull();
  });
});

describe('shouldCache (CacheWhen.ShouldCache)', () => {
  it.each([
    ['on_success', true, true],
    ['on_success', false, false],
    ['on_failure', true, false],
    ['on_failure', false, true],
    ['always', true, true],
    ['always', false, true],
    ['never', true, false],
    ['never', false, false],
  ] as const)('%s after success=%s: %s', (when, ok, want) => {
    expect(shouldCache(when, ok)).toBe(want);
  });
});
