/**
 * tarZstdToTar: a tar+zstd archive (a cache gitlab-runner saved with CACHE_COMPRESSION_FORMAT=
 * tarzstd, still named cache.zip) → a tar stream with names relative to the project directory,
 * for ProjectFiles.write, as zipToTar does for a zip. The whole archive is checked first
 * (inspectTarZstd): an unsafe or corrupt one is refused before one byte is produced. Then it is
 * decompressed again and its files, folders and links written as new tar members (tarHeader:
 * names cleaned, owner root, permission bits (no setuid, setgid or sticky) and mtime kept); devices, pipes,
 * sockets, hard links and unknown kinds are skipped (see tarZstdMembers).
 */
import type { Readable } from 'node:stream';
import { open, type FileHandle } from 'node:fs/promises';
import { ArchiveError } from './archive-error.js';
import type { ExtractStats } from './archive-stats.js';
import { collectGarbageBefore, GarbageBudget } from './garbage-budget.js';
import { DEFAULT_MAX_ZIP_ENTRIES } from './inspect-zip.js';
import { inspectTarZstd } from './inspect-tar-zstd.js';
import { holdExtractionHeap } from './old-generation-growth.js';
import { padding, tarHeader } from './tar-header.js';
import { produceTar } from './tar-producer.js';
import { tarZstdMembers } from './tar-zstd-members.js';
import { TAR_BYTES_PER_TURN, type ZipToTarOptions } from './zip-to-tar.js';
import { TAR_BLOCK } from './tar-header-parse.js';
import { EventLoopTurns } from '../shared/event-loop-turns.js';

export async function tarZstdToTar(file: string, opts: ZipToTarOptions): Promise<{ stream: Readable; done: Promise<ExtractStats> }> {
  const kind = opts.kind ?? 'artifacts';
  opts.signal.throwIfAborted();
  const releaseLimit = holdExtractionHeap();
  // Opened once: the check and the extraction read the same file, even if the path is replaced meanwhile.
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    await inspectTarZstd(file, handle, { kind, maxEntries: opts.maxEntries ?? DEFAULT_MAX_ZIP_ENTRIES, signal: opts.signal });
  } catch (err) {
    releaseLimit();
    await handle?.close();
    throw err;
  }
  const opened = handle;
  collectGarbageBefore((await opened.stat().catch(() => ({ size: 0 }))).size);

  return produceTar(
    file,
    kind,
    opts.signal,
    async (production) => {
      const { out, signal, stats } = production;
      const garbage = new GarbageBudget();
      // As zipToTar: the Engine's socket is refilled at least once per 128 KiB of tar.
      const turns = new EventLoopTurns(TAR_BYTES_PER_TURN);
      for await (const member of tarZstdMembers(opened, signal, 'the tar stream')) {
        signal.throwIfAborted();
        production.entry = member.name;
        if (member.kind === 'skipped') {
          opts.onSkipped?.(member.name);
          continue;
        }
        // inspectTarZstd refused every bad name; this only guards against the file changing since.
        if (!member.path.ok) throw new ArchiveError(file, member.name, `the ${kind} archive ${file} changed while it was extracted`);
        const path = member.path.path;
        if (path === '') continue;
        const h = member.header;
        // Permission bits only, as gitlab-runner's extractor applies them (Go keeps setuid, setgid and sticky apart).
        const mode = h.mode & 0o777;
        const mtime = h.mtime;
        if (member.kind === 'directory') {
          await out.write(tarHeader({ name: path, type: 'directory', mode, mtime, size: 0 }));
        } else if (member.kind === 'symlink') {
          await out.write(tarHeader({ name: path, type: 'symlink', linkname: h.linkname, mode, mtime, size: 0 }));
        } else {
          const size = h.size;
          await out.write(tarHeader({ name: path, type: 'file', mode, mtime, size }));
          let copied = 0;
          for await (const chunk of member.body) {
            copied += chunk.length;
            await out.write(chunk);
          }
          // readTar ends a member's body early only with an error; this guards the tar we write.
          if (copied !== size) throw new Error(`the member holds ${copied} bytes, its header says ${size}`);
          await out.zeros(padding(size));
          stats.bytes += size;
          garbage.add(size);
        }
        stats.entries++;
        await turns.add(TAR_BLOCK + (member.kind === 'file' ? member.header.size : 0));
      }
    },
    async () => {
      releaseLimit();
      await opened.close();
    },
  );
}
