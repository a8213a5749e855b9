/**
 * tarZstdMembers: the members of a tar inside a Zstandard file (gitlab-runner's `tarzstd` cache:
 * commands/helpers/archive/tarzstd, Go's archive/tar in a klauspost zstd stream), in order, with
 * the kind berth gives each and its path relative to the project directory. tar-stream reads the
 * headers (ustar, pax `path`/`linkpath`/`size`, GNU long names; each header's checksum checked).
 * A member's body must be consumed by the caller or it is skipped when the next one is read.
 *
 * Regular (and contiguous) files, folders and symbolic links are extracted; devices, pipes and
 * sockets are skipped, as gitlab-runner's tar+zstd extractor skips them. Hard links and unknown
 * kinds are skipped too (gitlab-runner's archiver never writes them; its extractor would make an
 * empty file of a hard link). A backslash is part of a name, as tar is a POSIX format.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { extract, type Header } from 'tar-stream';
import { zipEntryPath, type ZipEntryPath } from './zip-entry-path.js';
import { zstdChunks } from './zstd-chunks.js';

export type TarZstdKind = 'file' | 'directory' | 'symlink' | 'skipped';

export interface TarZstdMember {
  header: Header;
  /** The stored name (pax or GNU long name applied), for messages. */
  name: string;
  path: ZipEntryPath;
  kind: TarZstdKind;
  /** The member's content (files only; empty for the others). */
  body: AsyncIterable<Buffer>;
}

/** The members of the open archive `file`, read from its first byte (the file stays open). */
export async function* tarZstdMembers(file: FileHandle, signal: AbortSignal): AsyncGenerator<TarZstdMember> {
  const source = Readable.from(zstdChunks(file, signal), { objectMode: false });
  const ex = extract();
  source.on('error', (err) => ex.destroy(err));
  source.pipe(ex);
  try {
    for await (const entry of ex) {
      const header = entry.header;
      yield { header, name: header.name, path: zipEntryPath(header.name, false), kind: kindOf(header), body: entry as AsyncIterable<Buffer> };
      // A body the caller did not read: drained so that the next header comes.
      entry.resume();
    }
  } finally {
    source.unpipe(ex);
    source.destroy();
  }
}

function kindOf(h: Header): TarZstdKind {
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    default:
      return 'skipped';
  }
}
