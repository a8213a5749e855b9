/**
 * The members of a multi-member gzip file, each on its own. GitLab stores a gzip report
 * (junit, dotenv, ...) as one gzip member per uploaded file and hands each member to the parser
 * as one blob (lib/gitlab/ci/build/artifacts/adapters/gzip_stream.rb each_blob); the runner writes
 * one member per matched file (commands/helpers/artifacts_uploader.go, gzip format).
 *
 * Bounded: the sum of the members' uncompressed sizes may not pass `maxUncompressedBytes`
 * (a gzip bomb stops at the limit, it is never inflated in full).
 */
import { readFile, stat } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { crc32 } from '../shared/crc32.js';
import { BerthError } from '../shared/errors.js';

/** What a dotenv report may inflate to (GitLab's dotenv limit is 5 KiB stored, 1 MiB is ample). */
export const DOTENV_MAX_UNCOMPRESSED_BYTES = 1024 * 1024;

/** A gzip stream that is not well-formed, or inflates past the limit. */
export class GzipStreamError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('gzip_stream_invalid', message, options);
  }
}

export interface GzipMembersOptions {
  /** Total uncompressed bytes over all members; default DOTENV_MAX_UNCOMPRESSED_BYTES. */
  maxUncompressedBytes?: number;
  /** Size of the file to read at most (a path only); default 64 MiB. */
  maxCompressedBytes?: number;
  /** Names the file in error messages when `source` is a Buffer. */
  name?: string;
}

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

interface InflateInfo {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

/**
 * Splits `source` (a path or the file's bytes) into its gzip members' contents. An empty file has
 * no members. Anything after a member that is not another gzip member is an error, as in Ruby's
 * Zlib::GzipReader (`not in gzip format`); so is a CRC or length mismatch or a truncated member.
 */
export async function readGzipMembers(source: string | Buffer, opts: GzipMembersOptions = {}): Promise<Buffer[]> {
  const maxOut = opts.maxUncompressedBytes ?? DOTENV_MAX_UNCOMPRESSED_BYTES;
  const maxIn = opts.maxCompressedBytes ?? 64 * 1024 * 1024;
  const name = typeof source === 'string' ? source : (opts.name ?? 'gzip stream');
  let data: Buffer;
  if (typeof source === 'string') {
    const size = (await stat(source)).size;
    if (size > maxIn) {
      throw new GzipStreamError(`gzip file ${name} is ${size} bytes, more than the ${maxIn} bytes allowed; upload a smaller report`);
    }
    data = await readFile(source);
  } else {
    data = source;
  }
  return splitGzipMembers(data, name, maxOut);
}

function splitGzipMembers(data: Buffer, name: string, maxOut: number): Buffer[] {
  const members: Buffer[] = [];
  let total = 0;
  let pos = 0;
  const fail = (what: string, cause?: unknown): never => {
    throw new GzipStreamError(
      `gzip file ${name}: ${what} (member ${members.length + 1}, byte ${pos}); the report must be gzip members, as the artifacts uploader writes them`,
      cause === undefined ? undefined : { cause },
    );
  };
  while (pos < data.length) {
    if (data.length - pos < 10 || data[pos] !== 0x1f || data[pos + 1] !== 0x8b) fail('not in gzip format');
    if (data[pos + 2] !== 8) fail('unknown compression method');
    const flags = data[pos + 3]!;
    if (flags & FRESERVED) fail('unknown header flags set');
    let p = pos + 10;
    if (flags & FEXTRA) {
      if (p + 2 > data.length) fail('truncated header');
      p += 2 + data.readUInt16LE(p);
    }
    for (const flag of [FNAME, FCOMMENT]) {
      if (!(flags & flag)) continue;
      const end = data.indexOf(0, p);
      if (end < 0) fail('truncated header');
      p = end + 1;
    }
    if (flags & FHCRC) p += 2;
    if (p > data.length) fail('truncated header');

    const budget = maxOut - total;
    let inflated: InflateInfo;
    try {
      inflated = inflateRawSync(data.subarray(p), { info: true, maxOutputLength: Math.max(1, budget) }) as unknown as InflateInfo;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        return fail(`inflates to more than ${maxOut} bytes`);
      }
      return fail(`invalid compressed data: ${(err as Error).message}`, err);
    }
    if (inflated.buffer.length > budget) fail(`inflates to more than ${maxOut} bytes`);
    p += inflated.engine.bytesWritten;
    if (p + 8 > data.length) fail('truncated member: no gzip trailer');
    if (data.readUInt32LE(p) !== crc32(inflated.buffer)) fail('invalid compressed data -- crc error');
    if (data.readUInt32LE(p + 4) !== inflated.buffer.length % 2 ** 32) fail('invalid compressed data -- length error');
    members.push(inflated.buffer);
    total += inflated.buffer.length;
    pos = p + 8;
  }
  return members;
}
