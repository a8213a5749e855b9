/**
 * arriveCache: a cache archive from the distributed cache, read while it downloads (see
 * ArrivingFile). The GET's body streams into a temporary file; the archive's end (its central
 * directory) is fetched beside it with a Range request on the same presigned URL (prefetchZipTail),
 * and this resolves as soon as the extraction can start. A body cut short is resumed where it
 * stopped (`Range: bytes=<received>-`, or written again from the start in place when the server
 * answers 200), up to `extraTries` times, `retryDelayMs` apart, with gitlab-runner's
 * `WARNING: Retrying...` line. The caller commits the file into the cache folder once `done`
 * resolved, or removes it.
 */
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { ArrivingFile } from '../artifacts/arriving-file.js';
import { FileSink } from '../artifacts/file-sink.js';
import { prefetchZipTail } from '../artifacts/zip-tail-prefetch.js';
import type { JobLog } from '../log/job-log.js';
import { runnerLogLine } from '../log/runner-log-line.js';
import { meterTransfer } from '../log/transfer-meter.js';
import type { ProxyAgents } from '../shared/proxy-agents.js';
import { errorMessage } from '../shared/errors.js';
import { CacheHttpError, cleanUrl, responseError, responseHeader, sendCacheRequest } from './cache-http-client.js';

export interface ArrivingCache {
  file: ArrivingFile;
  /** Settles with the download; rejects with a CacheHttpError (or the abort). */
  done: Promise<void>;
  /** Stops a download still running (its `done` then rejects). */
  stop(): void;
}

export interface ArriveCacheOptions {
  /** The GET's response (200), its body not read yet. */
  res: IncomingMessage;
  /** The presigned GET URL (for the Range requests). */
  url: string;
  temp: string;
  size: number;
  timeoutMs: number;
  signal: AbortSignal;
  log: JobLog;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  extraTries: number;
  retryDelayMs: number;
  /** The period of the transfer meter's lines (TRANSFER_METER_FREQUENCY); 0: off. */
  meterMs?: number;
  /** The proxies of HTTP_PROXY / HTTPS_PROXY / NO_PROXY. */
  proxies?: ProxyAgents;
}

export async function arriveCache(opts: ArriveCacheOptions): Promise<ArrivingCache> {
  const { url, size, timeoutMs } = opts;
  const proxied = opts.proxies ? { proxies: opts.proxies } : {};
  const file = new ArrivingFile(opts.temp);
  const stopper = new AbortController();
  const onAbort = (): void => stopper.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.signal.aborted) onAbort();
  const signal = stopper.signal;
  void prefetchZipTail(async (range, sinkFor) => {
    const res = await sendCacheRequest({ method: 'GET', url, headers: { Range: range }, ...proxied }, signal, timeoutMs);
    await pipeline(res, sinkFor(res.statusCode ?? 0, responseHeader(res, 'content-range') || undefined));
    return { status: res.statusCode ?? 0 };
  }, size).then((tail) => tail && file.setTail(size, tail));
  const done = receive(opts, file, signal).then(
    () => file.finish(size),
    (err: unknown) => {
      file.fail(err instanceof Error ? err : new Error(String(err)));
      throw err;
    },
  );
  done.catch(() => undefined).finally(() => opts.signal.removeEventListener('abort', onAbort));
  // A body that fails before the file can be read fails here (the caller's retry takes it).
  await Promise.race([file.ready().catch(() => done), done]);
  return { file, done, stop: () => stopper.abort(new Error('the cache archive was released')) };
}

/** The body into the file, resumed after a cut. */
async function receive(opts: ArriveCacheOptions, file: ArrivingFile, signal: AbortSignal): Promise<void> {
  const { url, size } = opts;
  let res: IncomingMessage = opts.res;
  let at = 0;
  for (let tries = 0; ; tries++) {
    const sink = new FileSink(opts.temp, file, at);
    // cache_extractor.go download: a meter per try wraps the file, with the archive's size; its
    // last line comes before the try's warning.
    const meter = meterTransfer(opts.log, opts.meterMs ?? 0, 'Downloading cache', size, () => sink.bytes);
    let failure: unknown;
    try {
      await pipeline(res, sink as Writable);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      failure = err;
    } finally {
      meter.close();
    }
    at += sink.bytes;
    if (failure === undefined && at === size) return;
    const why = failure === undefined ? `got ${at} of ${size} bytes` : errorMessage(failure);
    const err = new CacheHttpError(`Failed to download the cache from ${cleanUrl(url)}: ${why}`, 0, true, failure === undefined ? undefined : { cause: failure });
    if (tries >= opts.extraTries || at > size) throw err;
    await opts.sleep(opts.retryDelayMs, signal);
    opts.log.warning(runnerLogLine('Retrying...', { error: errorMessage(err) }, 'WARNING: '));
    res = await sendCacheRequest({ method: 'GET', url, headers: { Range: `bytes=${at}-` }, ...(opts.proxies ? { proxies: opts.proxies } : {}) }, signal, opts.timeoutMs);
    if (res.statusCode === 206 && responseHeader(res, 'content-range') === `bytes ${at}-${size - 1}/${size}`) continue;
    if (res.statusCode === 200 && responseHeader(res, 'content-length') === String(size)) {
      at = 0; // the whole body again, written over the same bytes
      continue;
    }
    throw await responseError(res);
  }
}
