/**
 * ContainerProjectFiles: the job's project directory read and written through the Engine's
 * archive API (GET/PUT /containers/{id}/archive), so it works with any image (no helper, no
 * tool in the image) and with an engine on another host. The build container may be stopped
 * between stages: the archive API works on stopped containers too.
 */
import { posix } from 'node:path';
import { Readable as NodeReadable } from 'node:stream';
import { extract, type Header } from 'tar-stream';
import type { FileEntry, FileEntrySource, FileEntryType } from '../../artifacts/file-entry.js';
import type { EngineClient } from '../../engine/engine-client.js';
import type { ProjectFiles } from '../project-files.js';

export class ContainerProjectFiles implements ProjectFiles {
  constructor(
    private readonly engine: EngineClient,
    private readonly containerId: string,
    readonly projectDir: string,
    private readonly trackedFiles: ReadonlySet<string>,
    /** Resolves once no stage runs in the container (its files are at rest). */
    private readonly atRest: () => Promise<void>,
  ) {}

  async read(relPath: string, signal: AbortSignal): Promise<FileEntrySource | null> {
    await this.atRest();
    const rel = relPath.replace(/^\/+|\/+$/g, '');
    const tar = await this.engine.getArchive(this.containerId, rel ? posix.join(this.projectDir, rel) : this.projectDir, signal);
    return tar ? entriesOf(tar, rel) : null;
  }

  async write(tar: NodeReadable, signal: AbortSignal): Promise<void> {
    await this.atRest();
    await this.engine.putArchive(this.containerId, this.projectDir, tar, signal);
  }

  tracked(): ReadonlySet<string> {
    return this.trackedFiles;
  }
}

/**
 * Files up to this size are read whole out of the tar stream and handed out as `data`, their
 * `body` made only if a consumer asks for it: artifacts are mostly small files, and a Node
 * stream per file (and its async iteration by the writer) cost more than the file's bytes.
 */
const IN_MEMORY_FILE = 1024 * 1024;

/**
 * The entries of an archive of `rel` as the engine names them (from the base name of `rel`
 * on), renamed relative to the project directory. The project directory itself is left out.
 */
async function* entriesOf(tar: NodeReadable, rel: string): AsyncGenerator<FileEntry> {
  const ex = extract();
  tar.on('error', (err) => ex.destroy(err));
  tar.pipe(ex);
  try {
    for await (const entry of ex) {
      const h = entry.header;
      const name = h.name.replace(/\/+$/, '');
      const slash = name.indexOf('/');
      const rest = slash < 0 ? '' : name.slice(slash + 1);
      const path = rel ? (rest ? `${rel}/${rest}` : rel) : rest;
      if (!path) {
        entry.resume();
        continue;
      }
      const type = entryType(h);
      const size = type === 'file' ? (h.size ?? 0) : 0;
      const fields = { path, type, mode: (h.mode ?? 0o644) & 0o7777, mtime: h.mtime ?? new Date(0), size, linkTarget: h.type === 'symlink' ? (h.linkname ?? '') : '' };
      if (type === 'file' && size <= IN_MEMORY_FILE) {
        yield inMemory(fields, await readWhole(entry));
        continue;
      }
      // tar-stream's entries are streamx streams: hand out a Node stream.
      yield { ...fields, body: NodeReadable.from(entry, { objectMode: false }) };
      // A consumer that skipped the body: drain it so the next entry can come.
      entry.resume();
    }
  } finally {
    tar.unpipe(ex);
    tar.destroy();
  }
}

/** An entry whose content is in memory; its `body` stream is made only when asked for. */
function inMemory(fields: Omit<FileEntry, 'body' | 'data'>, data: Buffer): FileEntry {
  let body: NodeReadable | undefined;
  return {
    ...fields,
    data,
    get body(): NodeReadable {
      return (body ??= NodeReadable.from(data.length ? [data] : [], { objectMode: false }));
    },
  };
}

/** The rest of a tar-stream entry (a streamx Readable), whole. */
function readWhole(entry: NodeJS.EventEmitter): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let ended = false;
    entry.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
    });
    entry.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
    });
    entry.once('error', reject);
    // Destroyed without an error (the archive stream went away): no 'end' will come. The Error
    // is made only then: every entry closes, and an Error's stack trace for each of 20,000 files
    // cost ~450 ms of CPU (5 % of the archive step, bench/artifacts/layers.mjs --prof).
    entry.once('close', () => {
      if (!ended) reject(new Error('the archive stream from the engine ended inside a file'));
    });
  });
}

function entryType(h: Header): FileEntryType {
  if (h.type === 'file' || h.type === 'contiguous-file') return 'file';
  if (h.type === 'directory') return 'directory';
  if (h.type === 'symlink') return 'symlink';
  return 'other';
}
