/**
 * prefetchZipTail: a zip archive's end (its central directory and end records, zipTailStart)
 * fetched with Range requests while the whole body streams into a file, so that the extraction
 * can read the central directory and start on the first entries before the last byte is in
 * (ArrivingFile). GitLab serves artifacts through Workhorse (Go's http.ServeContent) or object
 * storage (S3, GCS, Azure): all of them answer Range requests with 206.
 *
 * Only an answer that is exactly the range asked for counts (206, `Content-Range: bytes
 * <from>-<to>/<size>` of the size the whole body has): a server that ignores Range (200), or one
 * that answers another range (s3rver answers `bytes=-N` with the first N bytes), gives nothing,
 * and its body is not read. Any failure here is no failure of the download: the extraction then
 * waits for the whole file, as without this.
 */
import { Writable } from 'node:stream';
import { zipTailStart } from './zip-tail.js';

/**
 * Bytes asked for first: a central directory of ~3,000 entries and all of a zip's end records.
 * At least 65,577 (the end record, the longest comment and the zip64 locator): yauzl reads that
 * much from the end to find the end records, and a read that starts before the bytes fetched
 * waits for the body.
 */
export const TAIL_FIRST_BYTES = 256 * 1024;
/** Central directories larger than this are not fetched ahead (memory: they are held until the body reaches them). */
export const TAIL_MAX_BYTES = 16 * 1024 * 1024;
/** Archives smaller than this are not read ahead: their whole body comes about as fast as their end. */
export const TAIL_MIN_ARCHIVE_BYTES = 4 * 1024 * 1024;

/** GETs bytes [from, to) with a Range header; the sink decides whether the body is read. */
export type RangeGet = (range: string, sink: (status: number, contentRange: string | undefined) => Writable) => Promise<{ status: number }>;

/** The archive's last bytes, from the offset its central directory starts at (or before); null when they could not be had. */
export async function prefetchZipTail(get: RangeGet, size: number): Promise<Buffer | null> {
  if (size < TAIL_MIN_ARCHIVE_BYTES) return null;
  let start = Math.max(0, size - TAIL_FIRST_BYTES);
  let bytes = await fetchRange(get, start, size, size);
  // A zip64 end record names the central directory only once it is read: at most two more fetches.
  for (let round = 0; bytes && round < 3; round++) {
    const need = zipTailStart(start, bytes);
    if (need === null || size - need > TAIL_MAX_BYTES) return null;
    if (need >= start) return bytes;
    const more = await fetchRange(get, need, start, size);
    bytes = more && Buffer.concat([more, bytes]);
    start = need;
  }
  return null;
}

async function fetchRange(get: RangeGet, from: number, to: number, size: number): Promise<Buffer | null> {
  const expected = `bytes ${from}-${to - 1}/${size}`;
  let collector: RangeCollector | undefined;
  try {
    const res = await get(`bytes=${from}-${to - 1}`, (status, contentRange) => {
      if (status !== 206 || contentRange !== expected) return refuse();
      return (collector = new RangeCollector(to - from));
    });
    return res.status === 206 && collector?.full ? collector.bytes : null;
  } catch {
    return null;
  }
}

/** A body that is not the range asked for: not read (the request fails at its first byte). */
function refuse(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('not the range asked for')) });
}

/** Collects exactly `length` bytes; more is an error. */
class RangeCollector extends Writable {
  readonly bytes: Buffer;
  private at = 0;

  constructor(length: number) {
    super();
    this.bytes = Buffer.allocUnsafe(length);
  }

  get full(): boolean {
    return this.at === this.bytes.length;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.at + chunk.length > this.bytes.length) {
      callback(new Error('more bytes than the range asked for'));
      return;
    }
    chunk.copy(this.bytes, this.at);
    this.at += chunk.length;
    callback();
  }
}
