/**
 * tarZstdMembers: the members of a tar inside a Zstandard file (gitlab-runner's `tarzstd` cache:
 * commands/helpers/archive/tarzstd, Go's archive/tar in a klauspost zstd stream), in order, with
 * the kind berth gives each and its path relative to the project directory. readTar reads the
 * headers (ustar, pax `path`/`linkpath`/`size`/`mtime`, GNU long names; each header's checksum
 * checked; sparse files refused). A member's body must be consumed by the caller or it is skipped
 * when the next one is read.
 *
 * Regular (and contiguous) files, folders and symbolic links are extracted; devices, pipes and
 * sockets are skipped, as gitlab-runner's tar+zstd extractor skips them. Hard links and unknown
 * kinds are skipped too (gitlab-runner's archiver never writes them; its extractor would make an
 * empty file of a hard link). A backslash is part of a name, as tar is a POSIX format.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { readTar, type TarMember, type TarMemberType } from './tar-reader.js';
import { zipEntryPath, type ZipEntryPath } from './zip-entry-path.js';
import { zstdChunks } from './zstd-chunks.js';

export type TarZstdKind = 'file' | 'directory' | 'symlink' | 'skipped';

export interface TarZstdMember {
  header: TarMember;
  /** The stored name (pax or GNU long name applied), for messages. */
  name: string;
  path: ZipEntryPath;
  kind: TarZstdKind;
  /** The member's content (files only; empty for the others). */
  body: AsyncIterable<Buffer> | Iterable<Buffer>;
}

/** Files up to this size come whole (one piece); larger ones are streamed. */
const IN_MEMORY = 1024 * 1024;

/** The members of the open archive `file` (`where`: its name in errors), read from its first byte (the file stays open). */
export async function* tarZstdMembers(file: FileHandle, signal: AbortSignal, where: string): AsyncGenerator<TarZstdMember> {
  const source = Readable.from(zstdChunks(file, signal), { objectMode: false });
  for await (const m of readTar(source, { where, inMemoryMax: IN_MEMORY })) {
    const body = m.body ?? (m.data && m.data.length > 0 ? [m.data] : []);
    yield { header: m, name: m.name, path: zipEntryPath(m.name, false), kind: kindOf(m.type), body };
  }
}

function kindOf(type: TarMemberType): TarZstdKind {
  return type === 'other' ? 'skipped' : type;
}
