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
 * memory and deflated (the larger ones on libuv's thread pool while the next ones are read, as
 * fastzip compresses several files at once; the small ones at once, see compress); the results are
 * written in order. At most WINDOW_BYTES (8 MiB) of such files
 * are in flight, so memory stays bounded. A larger file waits for the window to drain, then
 * streams through deflate with a data descriptor: no file is ever held whole in memory beyond
 * SMALL_FILE, and the archive itself never is.
 */
import { promisify } from 'node:util';
import { createDeflateRaw, deflateRaw, deflateRawSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { errorMessage, isAbortError } from '../shared/errors.js';
import { abortReason } from '../shared/abort.js';
import { ArchiveError } from './archive-error.js';
import { ArchiveFileWriter } from './archive-file-writer.js';
import type { ArchiveStats } from './archive-stats.js';
import { ContentCrc } from './content-crc.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';
import { permissionBits, S_IFDIR, S_IFLNK, S_IFREG } from './unix-mode.js';
import { centralRecord, dataDescriptor, endRecords, localHeader, METHOD_DEFLATE, METHOD_STORE, type ZipRecord } from './zip-records.js';

export interface WriteZipOptions {
  /** 0 = store, 1-9 = Deflate level (see compressionLevel). */
  level: number;
  signal: AbortSignal;
  /** Told about each entry that is not a file, folder or link (skipped). */
  onIgnored?: (path: string) => void;
}

const SMALL_FILE = 1024 * 1024;
const WINDOW_BYTES = 8 * 1024 * 1024;
const WINDOW_ENTRIES = 256;
const U32 = 0xffffffff;
const deflateRawAsync = promisify(deflateRaw);

/** One entry whose data may still be compressing. */
interface Pending {
  record: Omit<ZipRecord, 'offset' | 'compressedSize' | 'method'>;
  rawBytes: number;
  data: Promise<{ method: number; bytes: Buffer }>;
}

export async function writeZip(entries: FileEntrySource, file: string, opts: WriteZipOptions): Promise<ArchiveStats> {
  const { signal, level } = opts;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`zip compression level must be an integer from 0 to 9, got ${level}`);
  }
  const out = new PositionedFile(new ArchiveFileWriter(file, signal));
  const records: ZipRecord[] = [];
  const window: Pending[] = [];
  let windowBytes = 0;
  let current = '';

  /** Writes the oldest pending entry (waiting for its compression). */
  const flushOne = async (): Promise<void> => {
    const p = window.shift()!;
    windowBytes -= p.rawBytes;
    const { method, bytes } = await p.data;
    const record: ZipRecord = { ...p.record, method, compressedSize: bytes.length, offset: out.position };
    await out.write(localHeader(record, false));
    await out.write(bytes);
    records.push(record);
  };
  const flushAll = async (): Promise<void> => {
    while (window.length) await flushOne();
  };

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
        window.push({ record, rawBytes: 0, data: Promise.resolve({ method: METHOD_STORE, bytes }) });
      } else if (entry.type === 'file' && entry.size <= SMALL_FILE) {
        const raw = await readAll(entry.body, entry.size);
        if (raw.length !== entry.size) throw new Error(`the file changed while it was read: ${raw.length} bytes instead of ${entry.size}`);
        const record = { name, crc: new ContentCrc().update(raw).value(), size: raw.length, mode: S_IFREG | permissionBits(entry.mode), mtime: entry.mtime, dataDescriptor: false, directory: false };
        const data = compress(raw, level);
        data.catch(() => undefined);
        window.push({ record, rawBytes: raw.length, data });
        windowBytes += raw.length;
      } else if (entry.type === 'file') {
        await flushAll();
        records.push(await streamFile(out, entry, name, level, signal));
      } else {
        entry.body.resume();
        opts.onIgnored?.(entry.path);
        continue;
      }
      while (windowBytes > WINDOW_BYTES || window.length > WINDOW_ENTRIES) await flushOne();
    }
    current = '';
    await flushAll();
    const cdOffset = out.position;
    for (const r of records) await out.write(centralRecord(r));
    const cdSize = out.position - cdOffset;
    await out.write(endRecords(records.length, cdOffset, cdSize));
    await out.finish();
    return { entries: records.length, bytes: out.position };
  } catch (err) {
    await out.discard();
    if (isAbortError(err) || err instanceof ArchiveError) throw err;
    if (signal.aborted) throw abortReason(signal);
    const what = current === '' ? '' : ` (at ${current})`;
    throw new ArchiveError(file, current || undefined, `could not write the zip archive ${file}${what}: ${errorMessage(err)}`, { cause: err });
  }
}

function entryName(entry: FileEntry): Buffer {
  if (entry.path === '' || entry.path.startsWith('/') || entry.path.includes('\0')) throw new Error(`invalid name in the archive: ${JSON.stringify(entry.path)}`);
  return Buffer.from(entry.type === 'directory' ? `${entry.path.replace(/\/+$/, '')}/` : entry.path, 'utf8');
}

/**
 * Below SYNC_DEFLATE bytes a thread-pool round trip costs more than the compression itself
 * (a zlib handle per call): deflate on this thread. Larger files go to the pool, in parallel.
 */
const SYNC_DEFLATE = 128 * 1024;

async function compress(raw: Buffer, level: number): Promise<{ method: number; bytes: Buffer }> {
  if (level === 0 || raw.length === 0) return { method: METHOD_STORE, bytes: raw };
  if (raw.length < SYNC_DEFLATE) return { method: METHOD_DEFLATE, bytes: deflateRawSync(raw, { level }) };
  return { method: METHOD_DEFLATE, bytes: await deflateRawAsync(raw, { level }) };
}

async function readAll(body: Readable, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > Math.max(size, SMALL_FILE)) throw new Error(`the file is longer than its announced ${size} bytes`);
    chunks.push(b);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
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
          if (!deflate.write(b)) await new Promise<void>((resolve) => deflate.once('drain', resolve));
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

/** The archive file, counting the bytes written (the offsets the central directory records). */
class PositionedFile {
  position = 0;

  constructor(private readonly file: ArchiveFileWriter) {}

  async write(b: Buffer): Promise<void> {
    this.position += b.length;
    await this.file.write(b);
  }

  async finish(): Promise<void> {
    await this.file.finish();
  }

  discard(): Promise<void> {
    return this.file.discard();
  }
}
