/**
 * zipToTar: a zip file (a dependency's artifacts, a cache) → a tar stream with names relative to
 * the project directory, for ProjectFiles.write. The whole central directory is checked first
 * (inspectZip): an unsafe archive is refused before one byte is produced. Then the entries are
 * read in file order through a window of large reads (never the whole archive in memory), each
 * local header checked against the central directory (zipEntryLocal: out of order, overlapping
 * or renamed entries are corrupt): folders, files with their mode and mtime, symbolic links as
 * tar symbolic links. Pipes, devices and sockets are skipped, as gitlab-runner's extractor does
 * (helpers/archives/zip_extract.go). The tar headers are written here (tarHeader) and gathered
 * into large chunks (TarByteStream): per-entry streams and events cost more than the inflate.
 *
 * A corrupt or truncated zip (bad signature, CRC mismatch, short file) destroys the stream with
 * an ArchiveError, and `done` rejects with it. A file whose CRC does not match never gets its
 * last bytes into the tar, so the reader sees a truncated tar, not a wrong file.
 */
import type { Readable } from 'node:stream';
import { ArchiveError } from './archive-error.js';
import type { ArrivingFile } from './arriving-file.js';
import type { ExtractStats } from './archive-stats.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';
import { DEFAULT_MAX_ZIP_ENTRIES, inspectZip } from './inspect-zip.js';
import { openZipReader, zipEntries, zipEntryName } from './open-zip.js';
import * as zlib from 'node:zlib';
import { collectGarbageBefore, GarbageBudget } from './garbage-budget.js';
import { rawInflater } from './raw-inflater.js';
import { holdExtractionHeap } from './old-generation-growth.js';
import { isSmallZipEntry, readSmallZipEntry, readZipEntry, type ZipEntryRef } from './read-zip-entry.js';
import { MAX_LINK_TARGET, padding, tarHeader } from './tar-header.js';
import { produceTar } from './tar-producer.js';
import { TAR_BLOCK } from './tar-header-parse.js';
import { EventLoopTurns } from '../shared/event-loop-turns.js';
import { BlockWindow } from './zip-block-reader.js';
import { zipEntryKind } from './zip-entry-kind.js';
import { zipEntryLocal } from './zip-entry-local.js';
import { zipEntryPath } from './zip-entry-path.js';

/** The tar produced between two turns of the event loop (see EventLoopTurns: 128 KiB measured best of 64, 128 and 256). */
export const TAR_BYTES_PER_TURN = 128 * 1024;

export interface ZipToTarOptions {
  signal: AbortSignal;
  /** For messages: whose archive this is. Default 'artifacts'. */
  kind?: ZipArchiveKind;
  /** Refuse archives with more entries. Default 1,000,000. */
  maxEntries?: number;
  /**
   * Whether Zstandard is read (tar+zstd archives, zip entries of method 93): only for files from a
   * store only runners write (see LocalArchive.writtenByRunners). Default false: zip only.
   */
  zstd?: boolean;
  /** Told about each entry that is skipped (a pipe, device or socket). */
  onSkipped?: (name: string) => void;
  /** The archive is still being downloaded into `file` (see ArrivingFile): reads wait for it. */
  arriving?: ArrivingFile;
}


export async function zipToTar(file: string, opts: ZipToTarOptions): Promise<{ stream: Readable; done: Promise<ExtractStats> }> {
  const kind = opts.kind ?? 'artifacts';
  opts.signal.throwIfAborted();
  // Held from the central directory's reading on (thousands of entries: it would grow the young
  // generation first), released when `done` settles.
  const releaseLimit = holdExtractionHeap();
  // Opened once: the check and the extraction read the same file, even if the path is replaced meanwhile.
  let opened;
  try {
    opened = await openZipReader(file, kind, opts.arriving);
    await inspectZip(file, { kind, maxEntries: opts.maxEntries ?? DEFAULT_MAX_ZIP_ENTRIES, signal: opts.signal, zstd: opts.zstd === true, reader: opened.reader });
  } catch (err) {
    releaseLimit();
    opened?.zip.close();
    throw err;
  }
  const { zip, reader } = opened;
  const window = new BlockWindow(reader.fd, reader.size, reader.arriving);
  collectGarbageBefore(reader.size);

  return produceTar(
    file,
    kind,
    opts.signal,
    async (production) => {
      const { out, signal, stats } = production;
      let previousEnd = 0;
      const garbage = new GarbageBudget();
      const inflater = rawInflater(zlib);
      // The Engine's socket is refilled, and a download read, at least once per 128 KiB of tar.
      const turns = new EventLoopTurns(TAR_BYTES_PER_TURN);
      try {
        for await (const entry of zipEntries(zip, file, kind)) {
          signal.throwIfAborted();
          const name = zipEntryName(entry);
          production.entry = name;
          const p = zipEntryPath(name);
          // inspectZip refused every bad name; this only guards against the file changing since.
          if (!p.ok) throw new ArchiveError(file, name, `the ${kind} archive ${file} changed while it was extracted`);
          let local;
          try {
            local = await zipEntryLocal(window, entry, previousEnd);
          } catch (err) {
            throw corruptZip(file, kind, name, err);
          }
          previousEnd = local.dataEnd;
          if (p.path === '') continue;
          const { type, mode: stored } = zipEntryKind(entry, p.trailingSlash);
          // Permission bits only, as gitlab-runner's extractors apply them (Go keeps setuid, setgid and sticky apart).
          const mode = stored & 0o777;
          const mtime = entry.getLastModDate({ timezone: 'UTC' });
          const ref: ZipEntryRef = { window, entry, local, name, file, kind, inflater };
          if (type === 'directory') {
            await out.write(tarHeader({ name: p.path, type: 'directory', mode, mtime, size: 0 }));
          } else if (type === 'symlink') {
            if (entry.uncompressedSize > MAX_LINK_TARGET || entry.compressedSize > 2 * MAX_LINK_TARGET) {
              throw corruptZip(file, kind, name, new Error(`a symbolic link target of ${entry.uncompressedSize} bytes (at most ${MAX_LINK_TARGET})`));
            }
            const target = (await readSmallZipEntry(ref)).toString('utf8');
            if (target === '' || target.includes('\0')) {
              throw corruptZip(file, kind, name, new Error('a symbolic link with an empty or NUL-holding target'));
            }
            await out.write(tarHeader({ name: p.path, type: 'symlink', linkname: target, mode, mtime, size: 0 }));
          } else if (type === 'file') {
            const size = entry.uncompressedSize;
            if (isSmallZipEntry(entry)) {
              // Checked whole before its header is written: a bad file never reaches the tar.
              // (A view of the inflater's buffer or the window's block: out.write copies it before either is used again.)
              const data = await readSmallZipEntry(ref);
              await out.write(tarHeader({ name: p.path, type: 'file', mode, mtime, size }));
              await out.write(data);
            } else {
              await out.write(tarHeader({ name: p.path, type: 'file', mode, mtime, size }));
              await readZipEntry(ref, signal, (chunk) => out.write(chunk));
            }
            await out.zeros(padding(size));
            stats.bytes += size;
            // Read, inflated, copied into the tar chunks and sent: garbage now.
            garbage.add(size);
          } else {
            opts.onSkipped?.(name);
            continue;
          }
          stats.entries++;
          await turns.add(TAR_BLOCK + (type === 'file' ? entry.uncompressedSize : 0));
        }
      } finally {
        inflater.close();
      }
    },
    () => {
      releaseLimit();
      zip.close();
    },
  );
}
