/**
 * Packs what a job needs in its build directory (sourceEntries: the project files under
 * CI_PROJECT_DIR, the file variables under `<CI_PROJECT_DIR>.tmp`) into one tar stream,
 * extracted at `/` in the build container through the Engine's archive API. Owners are root.
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { pack, type Header, type Pack } from 'tar-stream';
import { withLargeFile, sourceEntries, type SourcesInput } from './source-entries.js';

type EntryHeader = Partial<Header> & Pick<Header, 'name'>;

export type ArchiveInput = SourcesInput;

export interface SourcesArchive {
  stream: Readable;
  /** Resolves with the number of project files packed once the stream is complete. */
  done: Promise<number>;
}

export function packSources(input: ArchiveInput): SourcesArchive {
  const tar = pack();
  const done = writeEntries(tar, input).then(
    (count) => {
      tar.finalize();
      return count;
    },
    (err: unknown) => {
      tar.destroy(err as Error);
      throw err;
    },
  );
  done.catch(() => undefined);
  return { stream: tar as unknown as Readable, done };
}

async function writeEntries(tar: Pack, input: ArchiveInput): Promise<number> {
  let count = 0;
  for await (const e of sourceEntries(input)) {
    if (e.type === 'directory') {
      await entry(tar, { name: `${e.name}/`, type: 'directory', mode: e.mode });
    } else if (e.type === 'symlink') {
      await entry(tar, { name: e.name, type: 'symlink', linkname: e.target, mode: 0o777 });
      count++;
    } else if (e.type === 'file') {
      await entry(tar, { name: e.name, type: 'file', mode: e.mode, size: e.body.length, ...(e.mtime ? { mtime: e.mtime } : {}) }, e.body);
      if (e.project) count++;
    } else if (await largeFileEntry(tar, e.name, e.hostPath)) {
      count++;
    }
  }
  return count;
}

function entry(tar: Pack, header: EntryHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    tar.entry({ ...header, uid: 0, gid: 0 }, body ?? '', (err) => (err ? reject(err) : resolve()));
  });
}

/** Packs a regular file opened without following links; false when it is no longer one. */
function largeFileEntry(tar: Pack, name: string, hostPath: string): Promise<boolean> {
  return withLargeFile(hostPath, async ({ bytes, stats, mode }) => {
    const header = { name, type: 'file' as const, mode, size: stats.size, mtime: stats.mtime };
    if (!bytes) await entry(tar, header, Buffer.alloc(0));
    else await pipeline(bytes, tar.entry({ ...header, uid: 0, gid: 0 }));
  });
}
