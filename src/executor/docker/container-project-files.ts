/**
 * ContainerProjectFiles: the job's project directory read and written through the Engine's
 * archive API (GET/PUT /containers/{id}/archive), so it works with any image (no helper, no
 * tool in the image) and with an engine on another host. The build container may be stopped
 * between stages: the archive API works on stopped containers too.
 */
import { posix } from 'node:path';
import { Readable as NodeReadable } from 'node:stream';
import type { FileEntry, FileEntrySource } from '../../artifacts/file-entry.js';
import { readTar } from '../../artifacts/tar-reader.js';
import type { EngineClient } from '../../engine/engine-client.js';
import type { ProjectFiles } from '../project-files.js';

export class ContainerProjectFiles implements ProjectFiles {
  constructor(
    private readonly engine: EngineClient,
    private readonly containerId: string,
    readonly projectDir: string,
    /** Git's tracked files; null: the project directory is no repository (no sources fetched). */
    private readonly trackedFiles: ReadonlySet<string> | null,
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

  tracked(): ReadonlySet<string> | null {
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
  for await (const m of readTar(tar, { where: `the archive of ${rel || 'the project directory'} from the container`, inMemoryMax: IN_MEMORY_FILE })) {
    const name = m.name.replace(/\/+$/, '');
    const slash = name.indexOf('/');
    const rest = slash < 0 ? '' : name.slice(slash + 1);
    const path = rel ? (rest ? `${rel}/${rest}` : rel) : rest;
    if (!path) continue;
    if (m.body) yield { path, type: m.type, mode: m.mode & 0o7777, mtime: m.mtime, size: m.size, linkTarget: '', body: m.body };
    else yield new HeldEntry(path, m.type, m.mode & 0o7777, m.mtime, m.size, m.type === 'symlink' ? m.linkname : '', m.type === 'file' ? m.data : undefined);
  }
}

const NO_BYTES: Buffer[] = [];

/**
 * An entry whose content (if any) is in memory; its `body` stream is made only when asked for.
 * A class, not an object literal with a getter: one shape and no closure per entry (20,000 of them).
 */
class HeldEntry implements FileEntry {
  private stream: NodeReadable | undefined;

  constructor(
    readonly path: string,
    readonly type: FileEntry['type'],
    readonly mode: number,
    readonly mtime: Date,
    readonly size: number,
    readonly linkTarget: string,
    readonly data: Buffer | undefined,
  ) {}

  get body(): NodeReadable {
    return (this.stream ??= NodeReadable.from(this.data?.length ? [this.data] : NO_BYTES, { objectMode: false }));
  }
}
