/**
 * produceTar: what zipToTar and tarZstdToTar share around their loops over the archive: the tar
 * stream (TarByteStream) and its end blocks, a stop when the caller aborts or the reader of the
 * tar goes away early, and one error for whatever ends the production — the caller's abort
 * reason, "closed before its end", an ArchiveError as it is, any other error as a corrupt
 * archive naming the entry being written. `release` runs once the production has settled.
 */
import type { Readable } from 'node:stream';
import { ArchiveError } from './archive-error.js';
import type { ExtractStats } from './archive-stats.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';
import { TarByteStream } from './tar-byte-stream.js';

export interface TarProduction {
  out: TarByteStream;
  /** The caller's signal, or the reader of the tar gone early. */
  signal: AbortSignal;
  stats: ExtractStats;
  /** The entry being written, for the error of a failure (its stored name). */
  entry: string | undefined;
}

export function produceTar(
  file: string,
  kind: ZipArchiveKind,
  outer: AbortSignal,
  write: (p: TarProduction) => Promise<void>,
  release: () => unknown,
): { stream: Readable; done: Promise<ExtractStats> } {
  const stop = new AbortController();
  const signal = AbortSignal.any([outer, stop.signal]);
  const out = new TarByteStream(signal);
  const stream = out.stream;
  let ended = false;
  const closedEarly = (): ArchiveError => new ArchiveError(file, undefined, `the tar stream of the ${kind} archive ${file} was closed before its end`);
  stream.once('end', () => (ended = true));
  stream.once('close', () => {
    if (!ended) stop.abort(closedEarly());
  });
  const p: TarProduction = { out, signal, stats: { entries: 0, bytes: 0 }, entry: undefined };

  const done = (async (): Promise<ExtractStats> => {
    try {
      await write(p);
      p.entry = undefined;
      await out.finish(signal);
      return p.stats;
    } catch (err) {
      const e = toError(err);
      stream.destroy(e);
      throw e;
    } finally {
      await release();
    }
  })();
  done.catch(() => undefined);
  return { stream, done };

  function toError(err: unknown): Error {
    if (outer.aborted) return outer.reason as Error;
    if (signal.aborted && signal.reason instanceof ArchiveError) return signal.reason;
    // The reader destroyed the stream (its 'close', which aborts `stop`, may not have come yet).
    if (stream.destroyed && !ended && !(err instanceof ArchiveError)) return closedEarly();
    if (err instanceof ArchiveError) return err;
    return corruptZip(file, kind, p.entry, err);
  }
}
