/**
 * readZipEntry: one zip entry's decoded bytes, from the data zipEntryLocal located, checked
 * against the central directory's size and CRC-32 BEFORE its last bytes are handed on: a reader
 * of the output never sees a whole file with wrong content. Small entries (both sizes at most
 * 1 MiB) are read whole and inflated in one call (most artifacts are many small files: one call
 * instead of a stream per file); larger ones are streamed, the last chunk held back until the
 * CRC matches. More bytes than the stored size stop the inflate at once (a zip bomb never
 * expands past what the central directory declared). Any read, inflate, size or CRC failure is
 * a corrupt-archive ArchiveError naming the entry.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import type { Entry } from 'yauzl';
import { ArchiveError } from './archive-error.js';
import { ContentCrc } from './content-crc.js';
import type { RawInflater } from './raw-inflater.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';
import type { BlockWindow } from './zip-block-reader.js';
import type { ZipEntryLocal } from './zip-entry-local.js';
import { zstdDecode } from './zstd-chunks.js';

/** Entries with both sizes up to this are read whole. */
export const SMALL_ZIP_ENTRY = 1024 * 1024;
const STREAM_READ = 1024 * 1024;
/** Output pieces of the streamed inflate: few threadpool round trips, little memory. */
const INFLATE_CHUNK = 256 * 1024;
const DEFLATE = 8;
/** Zstandard (APPNOTE 4.4.5; gitlab-runner's CACHE_COMPRESSION_FORMAT=zipzstd). */
export const ZSTD = 93;

export interface ZipEntryRef {
  window: BlockWindow;
  entry: Entry;
  local: ZipEntryLocal;
  /** The entry's stored name, for messages. */
  name: string;
  /** The archive file and its kind, for messages. */
  file: string;
  kind: ZipArchiveKind;
  /** Inflates small entries through one reused zlib stream (zipToTar's); without it, inflateRawSync per entry. */
  inflater?: RawInflater;
}

export function isSmallZipEntry(entry: Entry): boolean {
  return entry.compressedSize <= SMALL_ZIP_ENTRY && entry.uncompressedSize <= SMALL_ZIP_ENTRY;
}

/**
 * A small entry's whole content (see isSmallZipEntry), checked. It may be a view of memory that
 * is reused: of the window's block (a stored entry; valid until the window moves) or, with
 * `ref.inflater`, of the inflater's buffer (up to REUSED_OUTPUT bytes; valid until its next call).
 * Copy it before reading on.
 */
export async function readSmallZipEntry(ref: ZipEntryRef): Promise<Buffer> {
  const { window, entry, local } = ref;
  let data: Buffer;
  try {
    const raw = window.cached(local.dataStart, entry.compressedSize) ?? (await window.bytes(local.dataStart, entry.compressedSize));
    if (raw.length < entry.compressedSize) throw new Error('unexpected end of file');
    if (entry.compressionMethod === DEFLATE) {
      data = ref.inflater ? ref.inflater.inflate(raw, entry.uncompressedSize) : inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    }
    else if (entry.compressionMethod === ZSTD) data = await zstdWhole(raw, entry.uncompressedSize, ref);
    else data = raw;
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw sizeMismatch(ref, entry.uncompressedSize + 1);
    throw corruptZip(ref.file, ref.kind, ref.name, err);
  }
  if (data.length !== entry.uncompressedSize) throw sizeMismatch(ref, data.length);
  checkCrc(ref, new ContentCrc().update(data).value());
  return data;
}

/** Streams an entry's decoded bytes to `write`, the last chunk only once size and CRC match. */
export async function readZipEntry(ref: ZipEntryRef, signal: AbortSignal, write: (chunk: Buffer) => Promise<void> | undefined): Promise<void> {
  const { window, entry, local } = ref;
  const crc = new ContentCrc();
  let held: Buffer | undefined;
  let total = 0;
  const compressed = async function* (): AsyncGenerator<Buffer> {
    for (let at = local.dataStart; at < local.dataEnd; ) {
      // Owned: the inflate and the held chunk keep it while the next one is read.
      const chunk = await window.owned(at, Math.min(STREAM_READ, local.dataEnd - at));
      if (chunk.length === 0) throw new Error('unexpected end of file');
      at += chunk.length;
      yield chunk;
    }
  };
  // What stopped the consumer: the pipeline may reject with the abort it made of it instead.
  let failure: unknown;
  const consume = async (decoded: AsyncIterable<Buffer>): Promise<void> => {
    try {
      for await (const buf of decoded) {
        signal.throwIfAborted();
        total += buf.length;
        if (total > entry.uncompressedSize) throw sizeMismatch(ref, total);
        crc.update(buf);
        if (held) await write(held);
        held = buf;
      }
    } catch (err) {
      failure ??= err;
      throw err;
    }
  };
  try {
    if (entry.compressionMethod === DEFLATE) await pipeline(Readable.from(compressed()), createInflateRaw({ chunkSize: INFLATE_CHUNK }), consume, { signal });
    else if (entry.compressionMethod === ZSTD) await consume(zstdDecode(compressed(), signal));
    else await consume(compressed());
  } catch (err) {
    const e = failure ?? err;
    if (signal.aborted || e instanceof ArchiveError) throw e;
    throw corruptZip(ref.file, ref.kind, ref.name, e);
  }
  if (total !== entry.uncompressedSize) throw sizeMismatch(ref, total);
  checkCrc(ref, crc.value());
  if (held) await write(held);
}

/** A small zstd entry decoded whole; more bytes than the central directory declares stop it at once. */
async function zstdWhole(raw: Buffer, size: number, ref: ZipEntryRef): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let total = 0;
  for await (const piece of zstdDecode([raw])) {
    total += piece.length;
    if (total > size) throw sizeMismatch(ref, total);
    pieces.push(piece);
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total);
}

function checkCrc(ref: ZipEntryRef, value: number): void {
  if (value !== ref.entry.crc32 >>> 0) {
    throw corruptZip(ref.file, ref.kind, ref.name, new Error(`CRC-32 mismatch: stored ${hex(ref.entry.crc32)}, content ${hex(value)}`));
  }
}

function sizeMismatch(ref: ZipEntryRef, got: number): Error {
  const size = ref.entry.uncompressedSize;
  const what = got > size ? `more than ${size} bytes of content` : `${got} bytes of content`;
  return corruptZip(ref.file, ref.kind, ref.name, new Error(`${what}, the central directory says ${size}`));
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
