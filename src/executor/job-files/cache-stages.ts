/**
 * The `restore_cache` and `archive_cache` / `archive_cache_on_failure` stages, as gitlab-runner
 * writes them (shells/abstract.go: cacheExtractor, archiveCache; commands/helpers/cache_*.go),
 * with its log lines. A cache problem is never a failed job (a warning and the job goes on);
 * only an unknown `policy` is (runner_system_failure, as gitlab-runner's script generation error).
 */
import {
  cachePolicy,
  fallbackOrder,
  policySkipNotice,
  rawCacheKey,
  resolveCacheKey,
  shouldCache,
  type CacheLogLine,
  type CacheName,
  type CachePhase,
  type ResolvedCacheKey,
} from '../../artifacts/cache-key.js';
import { compressionLevel } from '../../artifacts/compression-level.js';
import { selectFiles } from '../../artifacts/file-selector.js';
import { writeZip } from '../../artifacts/write-zip.js';
import type { CacheSpec, FileWhen } from '../../job/job-spec.js';
import { variableValue } from '../../job/variables.js';
import { errorMessage } from '../../shared/errors.js';
import { extractArchive } from './extract-archive.js';
import type { StageContext } from './stage-context.js';
import type { CacheWriteOutcome } from './transports.js';

/** Entries with something to cache (paths or untracked); the stage is skipped without any. */
export function cachesToRestore(caches: readonly CacheSpec[]): CacheSpec[] {
  return caches.filter((c) => c.paths.length > 0 || c.untracked);
}

export function cachesToArchive(caches: readonly CacheSpec[], jobSucceeded: boolean): CacheSpec[] {
  return cachesToRestore(caches).filter((c) => whenMatches(c.when, jobSucceeded));
}

export function whenMatches(when: FileWhen, jobSucceeded: boolean): boolean {
  return shouldCache(when, jobSucceeded);
}

/**
 * gitlab-runner writes a stage's whole script before it runs it: an unknown `policy` (after
 * variable expansion) of any cache fails the job there (runner_system_failure), before the
 * stage's section and before any cache is restored or saved (shells/abstract.go
 * writeRestoreCacheScript, archiveCache: CheckPolicy). A cache without a usable key is skipped
 * there before its policy is looked at.
 */
export function checkCachePolicies(ctx: StageContext, caches: readonly CacheSpec[], phase: CachePhase): void {
  for (const cache of caches) {
    const { key } = resolvedKey(ctx, cache, phase).resolved;
    if (key !== null) cachePolicy(ctx.expand(cache.policy), key);
  }
}

export async function restoreCaches(ctx: StageContext): Promise<void> {
  for (const cache of cachesToRestore(ctx.job.cache)) {
    const name = cacheKey(ctx, cache, 'extraction');
    if (name === null) continue;
    const key = name.key;
    const skip = policySkipNotice(cachePolicy(ctx.expand(cache.policy), key), 'extraction', key);
    if (skip) {
      ctx.log.info(skip);
      continue;
    }
    const order = fallbackOrder(name, cache.fallbackKeys, variableValue(ctx.variables, 'CACHE_FALLBACK_KEY'), {
      expand: (t) => ctx.expand(t),
      hashKeys: name.hashed,
    });
    printLines(ctx, order.lines);
    for (const candidate of order.names) {
      ctx.log.info(`Checking cache for ${candidate.key}...`);
      if (await extractCache(ctx, candidate)) {
        ctx.log.info('Successfully extracted cache');
        break;
      }
      ctx.log.notice('Failed to extract cache');
    }
  }
}

export async function archiveCaches(ctx: StageContext, jobSucceeded: boolean): Promise<void> {
  for (const cache of cachesToArchive(ctx.job.cache, jobSucceeded)) {
    const name = cacheKey(ctx, cache, 'archiving');
    if (name === null) continue;
    const key = name.key;
    const skip = policySkipNotice(cachePolicy(ctx.expand(cache.policy), key), 'archiving', key);
    if (skip) {
      ctx.log.info(skip);
      continue;
    }
    ctx.log.info(`Creating cache ${key}...`);
    if (await createCache(ctx, name, cache)) ctx.log.info('Created cache');
    else ctx.log.notice('Failed to create cache');
  }
}

/**
 * The cache's name (gitlab-runner newCacheConfig): the expanded key, sanitised, or hashed with
 * FF_HASH_CACHE_KEYS (config.toml's feature_flags, then the job's variables); null (after its
 * lines) when there is none.
 */
function cacheKey(ctx: StageContext, cache: CacheSpec, phase: CachePhase): CacheName | null {
  const { resolved, hashed } = resolvedKey(ctx, cache, phase);
  printLines(ctx, resolved.lines);
  if (resolved.key === null || resolved.storageKey === null) return null;
  return { key: resolved.key, storageKey: resolved.storageKey, alternateKey: resolved.alternateKey, hashed };
}

/** The cache's key as newCacheConfig resolves it, its lines not printed. */
function resolvedKey(ctx: StageContext, cache: CacheSpec, phase: CachePhase): { resolved: ResolvedCacheKey; hashed: boolean } {
  const raw = rawCacheKey(cache.key, ctx.job.jobInfo.name, ctx.job.gitInfo.ref, (t) => ctx.expand(t));
  const hashed = ctx.featureFlag('FF_HASH_CACHE_KEYS');
  return { resolved: resolveCacheKey(raw, phase, { hashKeys: hashed }), hashed };
}

/** rep's levels: `warning` is gitlab-runner's yellow Warningf, `notice` its green Noticef. */
function printLines(ctx: StageContext, lines: readonly CacheLogLine[]): void {
  for (const line of lines) {
    if (line.level === 'warning') ctx.log.notice(line.text);
    else ctx.log.info(line.text);
  }
}

async function extractCache(ctx: StageContext, name: CacheName): Promise<boolean> {
  const cacheStore = ctx.transports.cache;
  if (!cacheStore) return false;
  const archive = await cacheStore.restore(name, ctx.log, ctx.signal);
  if (!archive) return false;
  try {
    await extractArchive(archive, ctx.files, { signal: ctx.signal, kind: 'cache', zstd: archive.writtenByRunners === true });
    return true;
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.log.warning(errorMessage(err));
    return false;
  } finally {
    await archive.release();
  }
}

async function createCache(ctx: StageContext, name: CacheName, cache: CacheSpec): Promise<boolean> {
  const cacheStore = ctx.transports.cache;
  try {
    const selection = selectFiles(
      ctx.files,
      // As gitlab-runner's cache-archiver expands them (mvdan's shell.Expand); the key is expanded plainly.
      { paths: cache.paths.map((p) => ctx.expandLikeHelper(p, 'cache:paths')), exclude: [], untracked: cache.untracked },
      { projectDir: ctx.files.projectDir, log: ctx.log, signal: ctx.signal },
    );
    const level = compressionLevel(variableValue(ctx.variables, 'CACHE_COMPRESSION_LEVEL'), (m) => ctx.log.warning(m), cacheStore?.defaultCompressionLevel);
    const format = variableValue(ctx.variables, 'CACHE_COMPRESSION_FORMAT');
    if (format && format !== 'zip') {
      ctx.log.warning(`CACHE_COMPRESSION_FORMAT ${JSON.stringify(format)}: berth writes caches as zip (it reads zip, zipzstd and tarzstd caches, as gitlab-runner does)`);
    }
    /** Writes the zip into `file`, and says whether it is to be stored in place of the archive of `stored`. */
    const write = async (file: string, stored: Date | null): Promise<CacheWriteOutcome> => {
      await writeZip(selection.entries, file, { level, signal: ctx.signal });
      if (selection.count() === 0) {
        ctx.log.warning('No files to cache.');
        return 'nothing';
      }
      return stored !== null && !newerThan(selection.newest(), stored) ? 'unchanged' : 'store';
    };
    // Straight into the store when it can take it (no copy of the archive), else via a temporary file.
    if (cacheStore?.saveWritten) return await cacheStore.saveWritten(name, write, ctx.log, ctx.signal);
    const file = await ctx.tempFile('cache.zip');
    if ((await write(file, null)) === 'nothing') return true;
    if (!cacheStore) return false;
    return await cacheStore.save(name, file, ctx.log, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.log.warning(errorMessage(err));
    return false;
  }
}

/**
 * file_archiver.go isChanged: whether a selected path was modified after the stored archive.
 * The Engine's archive gives whole seconds (sub-second times are cut off), so a path of the same
 * second as the archive counts as newer: a cache is never kept when it may have changed.
 */
function newerThan(newest: Date | null, stored: Date): boolean {
  return newest === null || newest.getTime() + 1000 > stored.getTime();
}
