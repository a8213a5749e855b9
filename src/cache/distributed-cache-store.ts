/**
 * The distributed (S3) cache of one runner, through presigned URLs as gitlab-runner's helper does
 * it (commands/helpers/cache_extractor.go, cache_archiver.go, retry_helper.go):
 * - restore: GET the object (with an alternate object, the two HEADed first to pick one); a local
 *   cache.zip at least as new as its Last-Modified is used as it is (`cache.zip is up to date`,
 *   the body left unread); else the body goes into a temporary file next to cache.zip, whose
 *   mtime is set to Last-Modified, renamed over cache.zip, and metadata.json written. A 404 is
 *   `WARNING: file does not exist`, any other failure a warning with S3's error;
 * - save: PUT the local cache.zip with Content-Length, the signed headers, Content-Type and
 *   Last-Modified, unless it is larger than MaxUploadedArchiveSize; a failure ends with
 *   gitlab-runner's `FATAL: <error>` line; `exists` HEADs an object.
 * Network errors and 5xx are retried twice, 1 s apart (`WARNING: Retrying...`; each try logs its
 * `Using presigned URL ...` lines again, as gitlab-runner's). Nothing here throws for an
 * unreachable or refusing cache: the cache stays local. Only an abort of the job's signal is
 * passed on.
 */
import { open, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ArrivingFile } from '../artifacts/arriving-file.js';
import { FileSink } from '../artifacts/file-sink.js';
import type { CacheName } from '../artifacts/cache-key.js';
import { TAIL_MIN_ARCHIVE_BYTES } from '../artifacts/zip-tail-prefetch.js';
import { limitYoungGeneration } from '../artifacts/limit-young-generation.js';
import type { JobLog } from '../log/job-log.js';
import { meterTransfer } from '../log/transfer-meter.js';
import { sleep as abortableSleep } from '../shared/abort.js';
import { errorMessage } from '../shared/errors.js';
import { FileBlockStream } from '../shared/file-block-stream.js';
import type { ProxyAgents } from '../shared/proxy-agents.js';
import { proxySettingsFrom, type ProxySettings } from '../shared/proxy-env.js';
import { proxyAgentsFor } from '../shared/proxy-agents-for.js';
import { arriveCache, type ArrivingCache } from './arriving-cache.js';
import { CacheHttpError, cleanUrl, DEFAULT_CACHE_REQUEST_TIMEOUT_MS, responseError, responseHeader, sendCacheRequest } from './cache-http-client.js';
import { cacheObjectName } from './cache-object-name.js';
import type { DistributedCacheSettings } from './cache-settings.js';
import { ARCHIVE_NAME, type CacheMetadata, type LocalCacheStore } from './local-cache-store.js';
import { runnerLogLine } from '../log/runner-log-line.js';
import { S3Presigner, type PresignedRequest } from './s3-presigner.js';

/** retry_helper.go as the cache commands set it up: 2 more tries, 1 s apart. */
const EXTRA_TRIES = 2;
const RETRY_DELAY_MS = 1000;

/**
 * A restored archive: a file in the cache folder, or (`arriving`) one still downloading into a
 * temporary file that `release` commits into the cache folder (or removes) once it is read.
 */
export interface RestoredCache {
  path: string;
  arriving?: { file: ArrivingFile; done: Promise<void> };
  release?: () => Promise<void>;
}

export interface DistributedCacheStoreOptions {
  settings: DistributedCacheSettings;
  /** The runner token's short form (gitlab/short-token.ts), for the `runner/<shortToken>` namespace. */
  shortToken: string;
  /** Injected for tests. */
  presigner?: Pick<S3Presigner, 'presign'>;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  requestTimeoutMs?: number;
  /** HTTP_PROXY, HTTPS_PROXY, NO_PROXY (default: read from berth's environment when the store is made). */
  proxy?: ProxySettings;
}

/** Which job the cache is for. */
export interface CacheJob {
  projectId: number;
  /** The job timeout: presigned URLs are valid that long. */
  timeoutSeconds: number;
  /** Limit of one cache request (CACHE_REQUEST_TIMEOUT, in minutes in gitlab-runner); default 10 minutes. */
  requestTimeoutMs?: number;
  /** The period of the transfer meter's lines (TRANSFER_METER_FREQUENCY); 0 or none: off. */
  meterMs?: number;
}

export class DistributedCacheStore {
  private readonly presigner: Pick<S3Presigner, 'presign'>;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly timeoutMs: number;
  /** The agents of HTTP_PROXY / HTTPS_PROXY; null when no proxy is set. */
  private readonly proxyAgents: Promise<ProxyAgents> | null;

  constructor(private readonly opts: DistributedCacheStoreOptions) {
    this.proxyAgents = proxyAgentsFor(opts.proxy ?? proxySettingsFrom());
    this.presigner = opts.presigner ?? new S3Presigner(opts.settings.s3);
    this.sleep = opts.sleep ?? abortableSleep;
    this.timeoutMs = opts.requestTimeoutMs ?? DEFAULT_CACHE_REQUEST_TIMEOUT_MS;
  }

  /**
   * The object's name, or null (after a warning) when the key cannot be stored remotely.
   * `sharded`: FF_HASH_CACHE_KEYS's `<sha[0:2]>/<sha>` naming.
   */
  objectName(key: string, job: CacheJob, log: JobLog, sharded = false): string | null {
    const name = this.nameOf(key, job, sharded);
    if (name === null) log.warning(`computed cache path outside of project bucket: cache ${JSON.stringify(key)} stays local`);
    return name;
  }

  /**
   * The alternate object's name (the other FF_HASH_CACHE_KEYS setting's), or null when it has
   * none: gitlab-runner then passes no `--alternate-url` and says nothing in the job log.
   */
  alternateObjectName(key: string, job: CacheJob, sharded: boolean): string | null {
    return this.nameOf(key, job, sharded);
  }

  private nameOf(key: string, job: CacheJob, sharded: boolean): string | null {
    const s = this.opts.settings;
    return cacheObjectName({ path: s.path, shared: s.shared, shortToken: this.opts.shortToken, projectId: job.projectId, key, sharded });
  }

  /**
   * Brings the object of the cache into the local store (under `name.storageKey`). With an
   * alternate object (objects.alternate), the newer of the two is taken, or the one that exists
   * (cache_extractor.go selectPresignedURL). Resolves with the local archive's path, or null when
   * there is no usable cache (after a warning). The object names come from objectName() and
   * alternateObjectName().
   */
  async restore(
    name: CacheName,
    objects: { primary: string; alternate: string | null },
    job: CacheJob,
    local: LocalCacheStore,
    log: JobLog,
    signal: AbortSignal,
  ): Promise<RestoredCache | null> {
    // Streaming the object and loading the S3 presigner would grow V8's young generation before
    // the extraction that follows (bench/artifacts cache case: the child's peak RSS).
    const releaseLimit = limitYoungGeneration();
    try {
      const primary = await this.presignDownload(objects.primary, job);
      const alternate = objects.alternate === null ? null : await this.presignDownload(objects.alternate, job);
      return await this.withRetries(log, signal, async () => {
        log.println('Using presigned URL for cache download'); // cache_extractor.go download: every try
        const urls = alternate === null ? primary : await this.select(primary, alternate, job, log, signal);
        return this.download(name, urls, job, local, log, signal);
      });
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof CacheHttpError && err.status === 404) log.warning('file does not exist');
      else log.warning(errorMessage(err));
      return null;
    } finally {
      releaseLimit();
    }
  }

  /** Uploads the local archive at `archive`. Resolves false (after a warning) when it was not uploaded. */
  async upload(key: string, objectName: string, archive: string, job: CacheJob, log: JobLog, signal: AbortSignal): Promise<boolean> {
    const max = this.opts.settings.maxUploadedArchiveSize;
    const releaseLimit = limitYoungGeneration();
    try {
      const size = (await stat(archive)).size;
      if (max > 0 && size > max) {
        log.println(`Cache archive size (${size}) is too big (Limit is set to ${max}). Cache will be stored only locally.`);
        return true;
      }
      const put = await this.presigner.presign('PUT', objectName, job.timeoutSeconds, key);
      await this.withRetries(log, signal, () => {
        // cache_archiver.go upload and handlePresignedURL: both lines on every try.
        log.println('Using presigned URL for cache upload');
        log.println(`Uploading ${ARCHIVE_NAME} to ${cleanUrl(put.url)}`);
        return this.put(archive, put, job.requestTimeoutMs ?? this.timeoutMs, log, job.meterMs ?? 0, signal);
      });
      return true;
    } catch (err) {
      if (signal.aborted) throw err;
      // uploadArchiveIfNeeded: logrus.Fatalln, then the stage's `Failed to create cache`.
      log.fatal(errorMessage(err));
      return false;
    } finally {
      releaseLimit();
    }
  }

  /**
   * cache_archiver.go primaryPresignedExists: whether the object is there (a 200 to its presigned
   * HEAD). Any failure counts as absent, after gitlab-runner's warning; other statuses silently.
   */
  async exists(objectName: string, job: CacheJob, log: JobLog, signal: AbortSignal): Promise<boolean> {
    try {
      const head = await this.presigner.presign('HEAD', objectName, job.timeoutSeconds);
      const res = await sendCacheRequest({ method: 'HEAD', url: head.url, ...(await this.proxies()) }, signal, job.requestTimeoutMs ?? this.timeoutMs);
      res.resume();
      return res.statusCode === 200;
    } catch (err) {
      if (signal.aborted) throw err;
      log.warning(runnerLogLine('Failed to check primary cache existence via HEAD request, assuming absent', { error: errorMessage(err) }, 'WARNING: '));
      return false;
    }
  }

  /** One try: the size and mtime are those of the file opened, even if a concurrent save renames a new cache.zip into place. */
  private async put(archive: string, put: PresignedRequest, timeoutMs: number, log: JobLog, meterMs: number, signal: AbortSignal): Promise<void> {
    const file = await open(archive, 'r');
    const info = await file.stat().catch(async (err: unknown) => {
      await file.close();
      throw err;
    });
    const headers = { 'Content-Type': 'application/octet-stream', 'Last-Modified': info.mtime.toUTCString(), ...put.headers };
    const stream = new FileBlockStream({ path: archive, handle: file, end: info.size }); // closes the file when it ends or fails
    // cache_archiver.go upload: the meter wraps the file, its size known.
    const meter = meterTransfer(log, meterMs, 'Uploading cache', info.size, () => stream.fileBytes);
    const res = await sendCacheRequest({ method: 'PUT', url: put.url, headers, body: { stream, length: info.size }, ...(await this.proxies()) }, signal, timeoutMs)
      .catch((err: unknown) => {
        stream.destroy();
        throw err;
      })
      .finally(() => meter.close());
    stream.destroy();
    if (!isSuccess(res)) throw await responseError(res);
    res.resume();
  }

  private async presignDownload(objectName: string, job: CacheJob): Promise<DownloadUrls> {
    const head = await this.presigner.presign('HEAD', objectName, job.timeoutSeconds);
    const get = await this.presigner.presign('GET', objectName, job.timeoutSeconds);
    return { head, get };
  }

  /**
   * cache_extractor.go selectPresignedURL: HEAD both objects; the alternate when only it exists
   * or it is newer, else the primary. Logged as the helper logs it (info, with both URLs and
   * Last-Modified times as Go prints a time.Time; zero when unknown).
   */
  private async select(primary: DownloadUrls, alternate: DownloadUrls, job: CacheJob, log: JobLog, signal: AbortSignal): Promise<DownloadUrls> {
    const timeoutMs = job.requestTimeoutMs ?? this.timeoutMs;
    const primaryTime = await this.timestamp(primary.head, timeoutMs, signal);
    const alternateTime = await this.timestamp(alternate.head, timeoutMs, signal);
    const fields = {
      primary_url: cleanUrl(primary.get.url),
      alternate_url: cleanUrl(alternate.get.url),
      primary_modified: goTime(primaryTime),
      alternate_modified: goTime(alternateTime),
    };
    if (primaryTime === null && alternateTime !== null) {
      log.println(runnerLogLine('Selecting alternate cache URL: primary not available', fields));
      return alternate;
    }
    if (primaryTime !== null && alternateTime !== null && alternateTime.getTime() > primaryTime.getTime()) {
      log.println(runnerLogLine('Selecting alternate cache URL: newer timestamp', fields));
      return alternate;
    }
    log.println(runnerLogLine('Selecting primary cache URL', fields));
    return primary;
  }

  /** cache_extractor.go fetchPresignedTimestamp: the Last-Modified of a 200 HEAD, else null (any failure). */
  private async timestamp(head: PresignedRequest, timeoutMs: number, signal: AbortSignal): Promise<Date | null> {
    try {
      const res = await sendCacheRequest({ method: 'HEAD', url: head.url, ...(await this.proxies()) }, signal, timeoutMs);
      res.resume();
      return res.statusCode === 200 ? lastModified(res) : null;
    } catch (err) {
      if (signal.aborted) throw err;
      return null;
    }
  }

  private async download(
    name: CacheName,
    urls: DownloadUrls,
    job: CacheJob,
    local: LocalCacheStore,
    log: JobLog,
    signal: AbortSignal,
  ): Promise<RestoredCache> {
    const { get } = urls;
    const key = name.storageKey;
    const timeoutMs = job.requestTimeoutMs ?? this.timeoutMs;
    // cache_extractor.go downloadPresignedSequential: the GET's answer says whether the local copy
    // is up to date (its Last-Modified; the body is then not read) and, refused, why (S3's error).
    const res = await sendCacheRequest({ method: 'GET', url: get.url, ...(await this.proxies()) }, signal, timeoutMs);
    if (!isSuccess(res)) throw await responseError(res);
    const remote = lastModified(res);
    let temp: string;
    try {
      const mine = await local.modified(key);
      if (mine && remote && mine.getTime() >= remote.getTime()) {
        res.destroy();
        log.println(`${ARCHIVE_NAME} is up to date`);
        return { path: local.archivePath(key) };
      }
      temp = await local.tempFile(key); // a name only: nothing to remove until the body is written
    } catch (err) {
      res.destroy();
      throw err;
    }
    const etag = responseHeader(res, 'etag');
    log.println(runnerLogLine(`Downloading cache from ${cleanUrl(get.url)}`, etag ? { etag } : {}));
    const commit = (): Promise<string> => local.commit(key, temp, remote, { cachekey: name.key, ...objectMetadata(res) });
    const size = Number(responseHeader(res, 'content-length') || Number.NaN);
    if (res.statusCode === 200 && Number.isSafeInteger(size) && size >= TAIL_MIN_ARCHIVE_BYTES) {
      // Read while it downloads; committed into the cache folder once extracted (release).
      let arriving: ArrivingCache;
      try {
        arriving = await arriveCache({
          res,
          url: get.url,
          temp,
          size,
          timeoutMs,
          signal,
          log,
          sleep: this.sleep,
          extraTries: EXTRA_TRIES,
          retryDelayMs: RETRY_DELAY_MS,
          meterMs: job.meterMs ?? 0,
          ...(await this.proxies()),
        });
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      const release = async (): Promise<void> => {
        arriving.stop();
        const ok = await arriving.done.then(
          () => true,
          () => false,
        );
        if (!ok || arriving.file.failed) {
          await rm(temp, { force: true });
          return;
        }
        // The job has used the archive; only the local copy is lost (commit removed the file).
        await commit().catch((err: unknown) => log.warning(errorMessage(err)));
      };
      return { path: temp, arriving: { file: arriving.file, done: arriving.done }, release };
    }
    const sink = new FileSink(temp);
    // cache_extractor.go download: the meter wraps the file, with the size the answer gives (0: unknown).
    const meter = meterTransfer(log, job.meterMs ?? 0, 'Downloading cache', Number.isSafeInteger(size) ? size : 0, () => sink.bytes);
    try {
      await pipeline(res, sink).finally(() => meter.close());
    } catch (err) {
      await rm(temp, { force: true });
      if (signal.aborted) throw err;
      throw new CacheHttpError(`Failed to download the cache from ${cleanUrl(get.url)}: ${errorMessage(err)}`, 0, true, { cause: err });
    }
    return { path: await commit() };
  }

  /** The proxies of a request (none when no proxy is set). */
  private async proxies(): Promise<{ proxies?: ProxyAgents }> {
    const agents = await this.proxyAgents;
    return agents ? { proxies: agents } : {};
  }

  /** Runs `fn` up to 1 + EXTRA_TRIES times while it fails with a retryable CacheHttpError. */
  private async withRetries<T>(log: JobLog, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    for (let tryNo = 0; ; tryNo++) {
      try {
        return await fn();
      } catch (err) {
        if (signal.aborted || tryNo >= EXTRA_TRIES || !(err instanceof CacheHttpError) || !err.retryable) throw err;
        await this.sleep(RETRY_DELAY_MS, signal);
        log.warning(runnerLogLine('Retrying...', { error: errorMessage(err) }, 'WARNING: '));
      }
    }
  }
}

interface DownloadUrls {
  head: PresignedRequest;
  get: PresignedRequest;
}

/** Go's time.Time String() of a UTC time (`2026-08-22 00:44:03 +0000 UTC`); null is Go's zero time. */
function goTime(date: Date | null): string {
  if (date === null) return '0001-01-01 00:00:00 +0000 UTC';
  const iso = date.toISOString(); // HTTP dates have whole seconds
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

function isSuccess(res: IncomingMessage): boolean {
  return Math.floor((res.statusCode ?? 0) / 100) === 2;
}

function lastModified(res: IncomingMessage): Date | null {
  const date = new Date(responseHeader(res, 'last-modified'));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `x-<vendor>-meta-<name>` response headers as `{ <name>: value }` (commands/helpers/cache_metadata.go). */
function objectMetadata(res: IncomingMessage): CacheMetadata {
  const out: CacheMetadata = {};
  for (const [name, value] of Object.entries(res.headers)) {
    const m = /^x-[a-z0-9]+-meta-(.+)$/.exec(name.toLowerCase());
    if (m && typeof value === 'string') out[m[1]!] = value;
  }
  return out;
}
