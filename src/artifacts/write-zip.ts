/**
 * writeZip: FileEntries → a zip file, streamed, with the files compressed in parallel.
 *
 * The layout follows gitlab-runner's zip archivers (helpers/archives/zip_create.go, and
 * saracen/fastzip behind commands/helpers/archive/fastzip/zip_fastzip_archiver.go): folders as
 * `name/`, symbolic links stored as links (S_IFLNK in the unix mode of the external attributes,
 * the target as content, as Go's archive/zip does), files with their mode and mtime, UTF-8 names
 * (the EFS flag), Zip64 where needed. Pipes, sockets and devices are skipped, as zip_create.go
 * does ("File ignored").
 *
 * Speed: artifacts are often thousands of small files. A file up to SMALL_FILE bytes is read into
 * memory and compressed whole: by default at once, on this thread, through one reused zlib stream
 * (DeflatePool.deflateNow), and written straight on (layers.mjs archive0, 3 interleaved pairs: CPU
 * 2.47-2.58 s through the window of the workers' way, 2.31-2.40 s straight; peak RSS 126-131
 * against 119-123 MB); or, if deflateThreads asks for workers, in batches on worker threads while
 * the next ones are read (as fastzip compresses several files at once), the results written in
 * order, at most WINDOW_BYTES (4 MiB) of such files in flight, so memory stays bounded. A larger
 * file waits for that window to drain, then streams through deflate with a data descriptor: no
 * file is ever held whole in memory beyond SMALL_FILE, and the archive itself never is. The output
 * is gathered into blocks of OUT_BLOCK bytes before it is written (two small records per entry
 * would otherwise be two file writes each).
 *
 * Memory (peak RSS, the target of issue 9 is 150 MB for the whole berth process): the central
 * directory is kept as bytes (CentralDirectory), not as an object per entry; a GarbageBudget
 * frees the dead Buffers of the stream as it goes; limitYoungGeneration stops V8's young
 * generation from growing. Measured with bench/artifacts/layers.mjs archive0 (20,000 files of
 * 10 KiB from a container, level 5): peak RSS 196-201 MB before, 116-124 MB after.
 */
import { createDeflateRaw } from 'node:zlib';
import type { Readable } from 'node:stream';
import { errorMessage, isAbortError } from '../shared/errors.js';
import { abortReason } from '../shared/abort.js';
import { ArchiveError } from './archive-error.js';
import { ArchiveFileWriter } from './archive-file-writer.js';
import type { ArchiveSink } from './archive-sink.js';
import type { ArchiveStats } from './archive-stats.js';
import { CentralDirectory } from './central-directory.js';
import { ContentCrc } from './content-crc.js';
import { DeflatePool } from './deflate-pool.js';
import { fileKind } from './deflate-strategy.js';
import { GarbageBudget } from './garbage-budget.js';
import { limitYoungGeneration } from './limit-young-generation.js';
import { waitForDrain } from './wait-for-drain.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';
import { permissionBits, S_IFDIR, S_IFLNK, S_IFREG } from './unix-mode.js';
import { dataDescriptor, endRecords, localHeader, METHOD_DEFLATE, METHOD_STORE, type ZipRecord } from './zip-records.js';

export interface WriteZipOptions {
  /** 0 = store, 1-9 = Deflate level (see compressionLevel). */
  level: number;
  signal: AbortSignal;
  /** Told about each entry that is not a file, folder or link (skipped). */
  onIgnored?: (path: string) => void;
  /** Worker threads for the small files (default: defaultDeflateThreads(), 0: none, all on this thread). */
  deflateThreads?: number;
}

const SMALL_FILE = 1024 * 1024;
const WINDOW_BYTES = 4 * 1024 * 1024;
const WINDOW_ENTRIES = 4096;
const OUT_BLOCK = 256 * 1024;
const U32 = 0xffffffff;
/** What the objects of one entry (the tar header parsed, records, promises) count for a GarbageBudget. */
const ENTRY_GARBAGE = 512;

/** One entry whose data may still be compressing. */
interface Pending {
  record: Omit<ZipRecord, 'offset' | 'compressedSize' | 'method'>;
  rawBytes: number;
  method: number;
  data: () => Promise<Buffer>;
  /** Called once the bytes are written (copied): a pool's buffer may then be reused. */
  release?: () => void;
}

export async function writeZip(entries: FileEntrySource, file: string, opts: WriteZipOptions): Promise<ArchiveStats> {
  checkLevel(opts.level);
  return writeZipTo(entries, new ArchiveFileWriter(file, opts.signal), opts);
}

/**
 * writeZip into any ArchiveSink (an upload body: the zip is streamed into the request as it is
 * made, as gitlab-runner's artifacts uploader does). On failure the sink is discarded.
 */
export async function writeZipTo(entries: FileEntrySource, sink: ArchiveSink, opts: WriteZipOptions): Promise<ArchiveStats> {
  const { signal, level } = opts;
  checkLevel(level);
  const file = sink.name;
  const out = new PositionedFile(sink);
  const pool = level > 0 ? new DeflatePool(level, opts.deflateThreads) : undefined;
  const central = new CentralDirectory();
  // A queue: `head` is the oldest entry (Array#shift moves every element, thousands here).
  let window: (Pending | undefined)[] = [];
  let head = 0;
  let windowBytes = 0;
  let current = '';
  const garbage = new GarbageBudget();
  const releaseLimit = limitYoungGeneration();

  /**
   * Writes one entry: its local header, then its bytes (without workers each entry comes here at
   * once: the window would only add a record, a closure and promises per entry). `transient`:
   * `bytes` is reused after this resolves.
   */
  const writeNow = async (base: Pending['record'], method: number, bytes: Buffer, transient: boolean): Promise<void> => {
    const record: ZipRecord = { ...base, method, compressedSize: bytes.length, offset: out.position };
    const header = out.write(localHeader(record, false));
    if (header) await header;
    const data = out.write(bytes, transient);
    if (data) await data;
    central.add(record);
  };
  /** Writes the oldest pending entry (waiting for its compression). */
  const flushOne = async (): Promise<void> => {
    const p = window[head]!;
    window[head++] = undefined;
    if (head === window.length || head >= 1024) {
      window = window.slice(head);
      head = 0;
    }
    windowBytes -= p.rawBytes;
    await writeNow(p.record, p.method, await p.data(), p.release !== undefined);
    p.release?.();
  };
  const flushAll = async (): Promise<void> => {
    while (head < window.length) await flushOne();
  };
  // No worker threads: every entry is written as it comes, in order.
  const direct = !pool || pool.threads <= 0;

  try {
    for await (const entry of entries) {
      if (signal.aborted) throw abortReason(signal);
      current = entry.path;
      const name = entryName(entry);
      if (entry.type === 'directory' || entry.type === 'symlink') {
        entry.body.resume();
        const bytes = entry.type === 'symlink' ? Buffer.from(entry.linkTarget, 'utf8') : Buffer.alloc(0);
        const mode = (entry.type === 'symlink' ? S_IFLNK : S_IFDIR) | (permissionBits(entry.mode) || (entry.type === 'symlink' ? 0o777 : 0o755));
        const record = { name, crc: new ContentCrc().update(bytes).value(), size: bytes.length, mode, mtime: entry.mtime, dataDescriptor: false, directory: entry.type === 'directory' };
        if (direct) await writeNow(record, METHOD_STORE, bytes, false);
        else window.push({ record, rawBytes: 0, method: METHOD_STORE, data: () => Promise.resolve(bytes) });
      } else if (entry.type === 'file' && entry.size <= SMALL_FILE) {
        const { chunks, crc } = entry.data ? inMemory(entry.data, entry.size) : await readAll(entry.body, entry.size);
        const record = { name, crc, size: entry.size, mode: S_IFREG | permissionBits(entry.mode), mtime: entry.mtime, dataDescriptor: false, directory: false };
        if (direct) {
          if (pool && entry.size > 0) await writeNow(record, METHOD_DEFLATE, pool.deflateNow(joined(chunks, entry.size), fileKind(entry.path)), true);
          else await writeNow(record, METHOD_STORE, joined(chunks, entry.size), false);
        } else if (pool && entry.size > 0) {
          const job = pool.submit(chunks, entry.size, fileKind(entry.path));
          window.push({ record, rawBytes: entry.size, method: METHOD_DEFLATE, data: () => pool.wait(job), release: () => pool.release(job) });
        } else {
          const bytes = joined(chunks, entry.size);
          window.push({ record, rawBytes: entry.size, method: METHOD_STORE, data: () => Promise.resolve(bytes) });
        }
        if (!direct) windowBytes += entry.size;
      } else if (entry.type === 'file') {
        await flushAll();
        central.add(await streamFile(out, entry, name, level, signal));
      } else {
        entry.body.resume();
        opts.onIgnored?.(entry.path);
        continue;
      }
      while (windowBytes > WINDOW_BYTES || window.length - head > WINDOW_ENTRIES) await flushOne();
      // Its bytes came as socket chunks, were held and deflated: all garbage now (plus the
      // entry's own objects, counted as ENTRY_GARBAGE bytes).
      garbage.add(entry.size + ENTRY_GARBAGE);
    }
    current = '';
    await flushAll();
    const cdOffset = out.position;
    for (const chunk of central.chunks()) await out.write(chunk);
    await out.write(endRecords(central.count, cdOffset, central.size));
    await out.finish();
    await pool?.close();
    return { entries: central.count, bytes: out.position };
  } catch (err) {
    await pool?.close();
    await out.discard();
    if (isAbortError(err) || err instanceof ArchiveError) throw err;
    if (signal.aborted) throw abortReason(signal);
    const what = current === '' ? '' : ` (at ${current})`;
    throw new ArchiveError(file, current || undefined, `could not write the zip archive ${file}${what}: ${errorMessage(err)}`, { cause: err });
  } finally {
    releaseLimit();
  }
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`zip compression level must be an integer from 0 to 9, got ${level}`);
  }
}

function entryName(entry: FileEntry): Buffer {
  if (entry.path === '' || entry.path.startsWith('/') || entry.path.includes('\0')) throw new Error(`invalid name in the archive: ${JSON.stringify(entry.path)}`);
  return Buffer.from(entry.type === 'directory' ? `${entry.path.replace(/\/+$/, '')}/` : entry.path, 'utf8');
}

/** A file's chunks as one buffer (the chunk itself when there is one). */
function joined(chunks: Buffer[], size: number): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** A small file the source holds in memory (FileEntry.data). */
function inMemory(data: Buffer, size: number): { chunks: Buffer[]; crc: number } {
  if (data.length !== size) throw new Error(`the file changed while it was read: ${data.length} bytes instead of ${size}`);
  return { chunks: [data], crc: new ContentCrc().update(data).value() };
}

/** A small file's bytes (as read: no copy) and CRC-32; exactly `size` of them, or an error. */
async function readAll(body: Readable, size: number): Promise<{ chunks: Buffer[]; crc: number }> {
  const chunks: Buffer[] = [];
  const crc = new ContentCrc();
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > size) throw new Error(`the file is longer than its announced ${size} bytes`);
    crc.update(b);
    chunks.push(b);
  }
  if (total !== size) throw new Error(`the file changed while it was read: ${total} bytes instead of ${size}`);
  return { chunks, crc: crc.value() };
}

/** A file too large to hold: local header with a data descriptor, deflate streamed, CRC on the way. */
async function streamFile(out: PositionedFile, entry: FileEntry, name: Buffer, level: number, signal: AbortSignal): Promise<ZipRecord> {
  const zip64 = entry.size >= U32;
  const offset = out.position;
  const method = level === 0 ? METHOD_STORE : METHOD_DEFLATE;
  const base = { name, method, crc: 0, compressedSize: 0, size: 0, mode: S_IFREG | permissionBits(entry.mode), mtime: entry.mtime, dataDescriptor: true, directory: false };
  await out.write(localHeader(base, zip64));
  const crc = new ContentCrc();
  let size = 0;
  let compressedSize = 0;
  if (method === METHOD_STORE) {
    for await (const chunk of entry.body) {
      if (signal.aborted) throw abortReason(signal);
      const b = chunk as Buffer;
      crc.update(b);
      size += b.length;
      await out.write(b);
    }
    compressedSize = size;
  } else {
    const deflate = createDeflateRaw({ level });
    const feeding = (async () => {
      try {
        for await (const chunk of entry.body) {
          const b = chunk as Buffer;
          crc.update(b);
          size += b.length;
          // A deflate destroyed meanwhile (the output side failed) emits no 'drain': its 'close' ends the wait.
          if (!deflate.write(b)) await waitForDrain(deflate, signal, 'the compression stopped');
        }
        deflate.end();
      } catch (err) {
        deflate.destroy(err as Error);
      }
    })();
    try {
      for await (const chunk of deflate) {
        if (signal.aborted) throw abortReason(signal);
        const b = chunk as Buffer;
        compressedSize += b.length;
        await out.write(b);
      }
      await feeding;
    } finally {
      deflate.destroy();
    }
  }
  if (size !== entry.size) throw new Error(`the file changed while it was read: ${size} bytes instead of ${entry.size}`);
  await out.write(dataDescriptor(crc.value(), compressedSize, size, zip64));
  return { ...base, crc: crc.value(), compressedSize, size, offset };
}

/**
 * The archive file, counting the bytes written (the offsets the central directory records).
 * Small writes are gathered into blocks of OUT_BLOCK bytes; large ones go out as they are. Two
 * blocks take turns: one is filled while the other is written (writeOwned), and a block is
 * filled again only once its write has completed (no new buffer per block).
 */
class PositionedFile {
  position = 0;
  private block = Buffer.allocUnsafe(OUT_BLOCK);
  /** The other block, free once `writing` has settled. */
  private spare = Buffer.allocUnsafe(OUT_BLOCK);
  private writing: Promise<void> = Promise.resolve();
  private used = 0;

  constructor(private readonly file: ArchiveSink) {}

  /**
   * Writes `b`; `transient`: its memory is reused once this resolves, so it is copied, never held.
   * Resolves at once (undefined, no promise) when `b` only went into the block.
   */
  write(b: Buffer, transient = false): Promise<void> | undefined {
    if (this.used + b.length <= OUT_BLOCK) {
      this.position += b.length;
      this.block.set(b, this.used);
      this.used += b.length;
      return this.used === OUT_BLOCK ? this.flush() : undefined;
    }
    return this.writePast(b, transient);
  }

  /** `b` does not fit in what is left of the block. */
  private async writePast(b: Buffer, transient: boolean): Promise<void> {
    this.position += b.length;
    await this.flush();
    if (b.length >= OUT_BLOCK / 4) {
      await this.file.write(transient ? Buffer.from(b) : b);
      return;
    }
    this.block.set(b, 0);
    this.used = b.length;
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.writing;
    await this.file.finish();
  }

  discard(): Promise<void> {
    return this.file.discard();
  }

  /** Starts the block's write and turns to the other block (once that one's write has completed). */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    const previous = this.writing;
    const full = this.block;
    this.block = this.spare;
    this.spare = full;
    // The write starts now, in order after the previous one (a sink queues its writes in order).
    this.writing = this.file.writeOwned(full.subarray(0, n));
    this.writing.catch(() => undefined);
    await previous;
  }
}
