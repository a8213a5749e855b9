/**
 * zipToTar: a zip file (a dependency's artifacts, a cache) → a tar stream with names relative to
 * the project directory, for ProjectFiles.write. The whole central directory is checked first
 * (inspectZip): an unsafe archive is refused before one byte is produced. Then each entry is
 * streamed from the file (random access, never the whole archive in memory): folders, files with
 * their mode and mtime, symbolic links as tar symbolic links. Pipes, devices and sockets are
 * skipped, as gitlab-runner's extractor does (helpers/archives/zip_extract.go).
 *
 * A corrupt or truncated zip (bad signature, CRC mismatch, short file) destroys the stream with
 * an ArchiveError, and `done` rejects with it. A file whose CRC does not match never gets its
 * last bytes into the tar, so the reader sees a truncated tar, not a wrong file.
 */
import { Readable } from 'node:stream';
import type { Entry, ZipFile } from 'yauzl';
import { pack as tarPack, type Pack } from 'tar-stream';
import { isAbortError } from '../shared/errors.js';
import { abortReason } from '../shared/abort.js';
import { ArchiveError } from './archive-error.js';
import type { ExtractStats } from './archive-stats.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';
import { DEFAULT_MAX_ZIP_ENTRIES, inspectZip } from './inspect-zip.js';
import { openZip, zipEntries, zipEntryName } from './open-zip.js';
import { readZipEntry } from './read-zip-entry.js';
import { zipEntryKind } from './zip-entry-kind.js';
import { zipEntryPath } from './zip-entry-path.js';

export interface ZipToTarOptions {
  signal: AbortSignal;
  /** For messages: whose archive this is. Default 'artifacts'. */
  kind?: ZipArchiveKind;
  /** Refuse archives with more entries. Default 1,000,000. */
  maxEntries?: number;
  /** Told about each entry that is skipped (a pipe, device or socket). */
  onSkipped?: (name: string) => void;
}

/** Longest symbolic link target berth accepts (Linux PATH_MAX). */
const MAX_LINK_TARGET = 4096;

export async function zipToTar(file: string, opts: ZipToTarOptions): Promise<{ stream: Readable; done: Promise<ExtractStats> }> {
  const kind = opts.kind ?? 'artifacts';
  opts.signal.throwIfAborted();
  await inspectZip(file, { kind, maxEntries: opts.maxEntries ?? DEFAULT_MAX_ZIP_ENTRIES, signal: opts.signal });
  const zip = await openZip(file, kind);

  const pack = tarPack();
  const stream = Readable.from(pack, { objectMode: false });
  // Stops the producer when the caller aborts or the reader of the tar goes away early.
  const stop = new AbortController();
  const signal = AbortSignal.any([opts.signal, stop.signal]);
  let ended = false;
  stream.once('end', () => (ended = true));
  stream.once('close', () => {
    if (!ended) stop.abort(closedEarly());
  });

  const done = (async (): Promise<ExtractStats> => {
    const stats: ExtractStats = { entries: 0, bytes: 0 };
    let name: string | undefined;
    try {
      for await (const entry of zipEntries(zip, file, kind)) {
        signal.throwIfAborted();
        name = zipEntryName(entry);
        const p = zipEntryPath(name);
        // inspectZip refused every bad name; this only guards against the file changing since.
        if (!p.ok) throw new ArchiveError(file, name, `the ${kind} archive ${file} changed while it was extracted`);
        if (p.path === '') continue;
        const { type, mode } = zipEntryKind(entry, p.trailingSlash);
        const mtime = entry.getLastModDate({ timezone: 'UTC' });
        if (type === 'directory') {
          await addVoid(pack, { name: p.path, type: 'directory', mode, mtime });
        } else if (type === 'symlink') {
          const target = await readLinkTarget(zip, entry, name, signal);
          if (target === '' || target.includes('\0')) {
            throw corruptZip(file, kind, name, new Error('a symbolic link with an empty or NUL-holding target'));
          }
          await addVoid(pack, { name: p.path, type: 'symlink', linkname: target, mode, mtime });
        } else if (type === 'file') {
          await addFile(pack, zip, entry, { name: p.path, type: 'file', mode, mtime, size: entry.uncompressedSize }, signal);
          stats.bytes += entry.uncompressedSize;
        } else {
          opts.onSkipped?.(name);
          continue;
        }
        stats.entries++;
      }
      name = undefined;
      pack.finalize();
      await endOf(stream, signal);
      return stats;
    } catch (err) {
      const e = toArchiveError(err, file, kind, name, signal);
      stream.destroy(e);
      pack.destroy(e);
      throw e;
    } finally {
      zip.close();
    }
  })();
  done.catch(() => undefined);
  return { stream, done };

  function toArchiveError(err: unknown, f: string, k: ZipArchiveKind, entry: string | undefined, s: AbortSignal): Error {
    if (opts.signal.aborted && isAbortError(err)) return err as Error;
    if (s.aborted && s.reason instanceof ArchiveError) return s.reason;
    // The reader destroyed the stream (its 'close', which aborts `stop`, may not have come yet).
    if (stream.destroyed && !ended && !(err instanceof ArchiveError)) return closedEarly();
    if (err instanceof ArchiveError) return err;
    return corruptZip(f, k, entry, err);
  }

  function closedEarly(): ArchiveError {
    return new ArchiveError(file, undefined, `the tar stream of the ${kind} archive ${file} was closed before its end`);
  }

  async function readLinkTarget(z: ZipFile, entry: Entry, entryName: string, s: AbortSignal): Promise<string> {
    if (entry.uncompressedSize > MAX_LINK_TARGET) {
      throw corruptZip(file, kind, entryName, new Error(`a symbolic link target of ${entry.uncompressedSize} bytes (at most ${MAX_LINK_TARGET})`));
    }
    const chunks: Buffer[] = [];
    await readZipEntry({ zip: z, entry, name: entryName, file, kind }, s, async (chunk) => void chunks.push(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }

  async function addFile(p: Pack, z: ZipFile, entry: Entry, header: TarHeader, s: AbortSignal): Promise<void> {
    const entryName = zipEntryName(entry);
    let failed: Error | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
      sink.on('error', (err: Error) => (failed ??= err));
      const write = (chunk: Buffer): Promise<void> => {
        if (failed) throw failed;
        if (sink.write(chunk)) return Promise.resolve();
        return waitDrain(sink, s);
      };
      readZipEntry({ zip: z, entry, name: entryName, file, kind }, s, write).then(
        () => void sink.end(undefined),
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          sink.destroy(e);
          reject(e);
        },
      );
    });
    finished.catch(() => undefined);
    await finished;
  }
}

type TarHeader = Parameters<Pack['entry']>[0];
type Sink = ReturnType<Pack['entry']>;

function addVoid(p: Pack, header: TarHeader): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
    sink.on('error', () => undefined);
  });
}

function waitDrain(sink: Sink, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the tar entry was closed before its end'));
    const onAbort = (): void => done(abortReason(signal));
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves when the reader has consumed the whole tar stream. */
function endOf(stream: Readable, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (stream.readableEnded) {
      resolve();
      return;
    }
    const done = (err?: Error): void => {
      stream.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onEnd = (): void => done();
    const onAbort = (): void => done(abortReason(signal));
    stream.on('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
}

