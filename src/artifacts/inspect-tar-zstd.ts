/**
 * inspectTarZstd: reads a whole tar+zstd archive (gitlab-runner's `tarzstd` cache) before anything
 * is extracted, and refuses it when one member is unsafe, as inspectZip does for a zip: a name
 * that is absolute, has a `..` segment or a NUL byte; a path that goes through a symbolic link
 * stored in the same archive, or is the path of such a link; a link with an empty, NUL-holding
 * or longer than 4096-byte target; a name longer than 4096 bytes; more members than `maxEntries`. A truncated or malformed
 * archive is a corrupt-archive error. A tar has no central directory: this is one decompression
 * of the whole archive (two when it holds links: the second checks every path against them).
 *
 * Memory: the symbolic links of the archive, never its members.
 */
import type { FileHandle } from 'node:fs/promises';
import { ArchiveError } from './archive-error.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';
import type { InspectZipOptions } from './inspect-zip.js';
import { refusedEntry, refuseThroughLinks, tooManyEntries } from './refused-entry.js';
import { MAX_LINK_TARGET } from './tar-header.js';
import { tarZstdMembers, type TarZstdMember } from './tar-zstd-members.js';

/** Longest member name (PATH_MAX too): a pax or GNU long name may be 4 MiB, and links' names are kept while checking. */
const MAX_NAME = 4096;

/** `handle`: `file` opened once by the caller, which reads it again from the same handle (a cache file replaced meanwhile changes nothing). */
export async function inspectTarZstd(file: string, handle: FileHandle, opts: InspectZipOptions): Promise<{ entries: number }> {
  /** link path → its index among the members */
  const links = new Map<string, number>();
  const entries = await eachMember(file, handle, opts, (member, path, index) => {
    if (member.kind !== 'symlink') return;
    const target = member.header.linkname;
    if (target === '' || target.includes('\0') || Buffer.byteLength(target) > MAX_LINK_TARGET) {
      throw corruptZip(file, opts.kind, member.name, new Error(`a symbolic link with an empty, NUL-holding or too long target (at most ${MAX_LINK_TARGET} bytes)`));
    }
    if (path !== '') links.set(path, index);
  });
  if (links.size === 0) return { entries };
  // A second look, now that every link is known (a link may come after the members below it).
  await eachMember(file, handle, opts, (member, path, index) => {
    refuseThroughLinks(file, opts.kind, member.name, path, index, links);
  });
  return { entries };
}

/** Calls `check` for each member that is extracted, with its safe path (refusing any other); returns the member count. */
async function eachMember(file: string, handle: FileHandle, opts: InspectZipOptions, check: (member: TarZstdMember, path: string, index: number) => void): Promise<number> {
  let index = 0;
  let name: string | undefined;
  try {
    for await (const member of tarZstdMembers(handle, opts.signal, 'the tar stream')) {
      opts.signal.throwIfAborted();
      name = member.name;
      if (Buffer.byteLength(name) > MAX_NAME) {
        name = `${name.slice(0, 100)}…`;
        throw refusedEntry(file, opts.kind, name, `its name is ${Buffer.byteLength(member.name)} bytes long, more than the ${MAX_NAME} a path may have`);
      }
      if (++index > opts.maxEntries) throw tooManyEntries(file, opts.kind, `more than ${opts.maxEntries}`, opts.maxEntries);
      if (member.kind === 'skipped') continue;
      if (!member.path.ok) throw refusedEntry(file, opts.kind, member.name, member.path.reason);
      check(member, member.path.path, index);
    }
    return index;
  } catch (err) {
    throw asArchiveError(err, file, opts.kind, name, opts.signal);
  }
}

/** A decoder or tar error as the corrupt-archive error naming the member it was at. */
function asArchiveError(err: unknown, file: string, kind: ZipArchiveKind, member: string | undefined, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof ArchiveError) return err;
  return corruptZip(file, kind, member, err);
}
