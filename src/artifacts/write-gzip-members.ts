/**
 * writeGzipMembers: the gzip format of GitLab's reports (junit, dotenv, cobertura, ...): one gzip
 * member per regular file, concatenated (a multi-member stream `gunzip -c` reads whole). As in
 * gitlab-runner's helpers/archives/gzip_create.go (writeGzipFile): header Name = base name,
 * Comment = relative path (both through gzipHeaderText, which escapes what Latin-1 cannot hold),
 * MTIME = the file's mtime; a selected entry that is not a regular file (a folder the paths
 * name, a link) is an error, as there: list the report files themselves.
 *
 * Node's zlib gzip stream cannot set the header's name or comment, so the member is written by
 * hand (RFC 1952): header, raw Deflate, then CRC-32 and ISIZE.
 */
import { createDeflateRaw } from 'node:zlib';
import { Transform, type TransformCallback } from 'node:stream';
import { ContentCrc } from './content-crc.js';
import { errorMessage, isAbortError } from '../shared/errors.js';
import { abortReason } from '../shared/abort.js';
import { ArchiveError } from './archive-error.js';
import { ArchiveFileWriter } from './archive-file-writer.js';
import type { ArchiveStats } from './archive-stats.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';
import { gzipHeaderText } from './gzip-comment.js';

const FNAME = 0x08;
const FCOMMENT = 0x10;
/** "unknown" operating system, what Go's gzip writer puts there. */
const OS_UNKNOWN = 255;

export async function writeGzipMembers(entries: FileEntrySource, file: string, signal: AbortSignal): Promise<ArchiveStats> {
  const out = new ArchiveFileWriter(file, signal);
  let count = 0;
  let current: string | undefined;
  try {
    for await (const entry of entries) {
      if (signal.aborted) throw abortReason(signal);
      current = entry.path;
      if (entry.type !== 'file') {
        entry.body.resume();
        throw new ArchiveError(
          file,
          entry.path,
          `the ${JSON.stringify(entry.path)} is not a regular file: a gzip report holds regular files only; ` +
            `list the report files themselves in artifacts:reports (e.g. ${JSON.stringify(entry.type === 'directory' ? `${entry.path}/*.xml` : 'the file the link points to')}), not a ${entry.type === 'directory' ? 'folder' : 'link or special file'}`,
        );
      }
      await writeMember(out, entry, file);
      count++;
    }
    return { entries: count, bytes: await out.finish() };
  } catch (err) {
    await out.discard();
    if (isAbortError(err) || err instanceof ArchiveError) throw err;
    const at = current === undefined ? '' : ` (at ${current})`;
    throw new ArchiveError(file, current, `could not write the gzip report ${file}${at}: ${errorMessage(err)}`, { cause: err });
  }
}

async function writeMember(out: ArchiveFileWriter, entry: FileEntry, file: string): Promise<void> {
  const header = memberHeader(entry, file);
  const crc = new ContentCrc();
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
      crc.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  await out.write(header);
  await out.pipeFrom(entry.body, counter, createDeflateRaw());
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc.value(), 0);
  // ISIZE: the input size modulo 2^32.
  trailer.writeUInt32LE(size % 0x1_0000_0000, 4);
  await out.write(trailer);
}

function memberHeader(entry: FileEntry, file: string): Buffer {
  const base = entry.path.slice(entry.path.lastIndexOf('/') + 1);
  const name = latin1(gzipHeaderText(base), entry.path, file);
  const comment = latin1(gzipHeaderText(entry.path), entry.path, file);
  const fixed = Buffer.alloc(10);
  fixed[0] = 0x1f;
  fixed[1] = 0x8b;
  fixed[2] = 8; // CM = deflate
  fixed[3] = FNAME | FCOMMENT;
  const secs = Math.floor(entry.mtime.getTime() / 1000);
  // Go's gzip writer leaves MTIME 0 for times it cannot carry (before 1970 or past 2106).
  fixed.writeUInt32LE(secs > 0 && secs <= 0xffff_ffff ? secs : 0, 4);
  fixed[8] = 0; // XFL
  fixed[9] = OS_UNKNOWN;
  return Buffer.concat([fixed, name, Buffer.of(0), comment, Buffer.of(0)]);
}

/**
 * A NUL-terminated GZIP header string is ISO 8859-1; Go's writer refuses anything else. After
 * gzipHeaderText only ASCII is left, but a NUL in a name still cannot be written.
 */
function latin1(s: string, path: string, file: string): Buffer {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp > 0xff) {
      throw new ArchiveError(
        file,
        path,
        `the report file ${JSON.stringify(path)} cannot be written as a gzip member: its name has characters outside ` +
          'Latin-1 (a gzip header holds only those); rename the file',
      );
    }
  }
  return Buffer.from(s, 'latin1');
}
