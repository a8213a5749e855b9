/**
 * MemoryProjectFiles: a ProjectFiles over an in-memory folder, for unit tests of the cache and
 * artifact stages (the Docker executor's ContainerProjectFiles is tested against a real engine).
 *
 *   const files = new MemoryProjectFiles({ 'dist/app.js': 'x', 'link': { link: '../out' } }, ['README.md']);
 *   files.read('dist', signal); files.write(tarStream, signal); files.get('dist/app.js');
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { FileEntry, FileEntrySource } from '../../src/artifacts/file-entry.js';
import type { ProjectFiles } from '../../src/executor/project-files.js';

export type MemoryFile =
  | { type: 'file'; content: Buffer; mode: number }
  | { type: 'directory'; mode: number }
  | { type: 'symlink'; target: string };

export type MemoryFileInput = string | Buffer | { link: string } | { dir: true };

export class MemoryProjectFiles implements ProjectFiles {
  readonly projectDir = '/builds/group/project';
  readonly files = new Map<string, MemoryFile>();
  readonly writes: number[] = [];
  /** Modification times `read` gives (default: the epoch). */
  readonly mtimes = new Map<string, Date>();

  /** `trackedFiles` null: the project directory is no git repository. */
  constructor(input: Record<string, MemoryFileInput> = {}, private readonly trackedFiles: string[] | null = []) {
    for (const [path, v] of Object.entries(input)) this.set(path, v);
  }

  set(path: string, v: MemoryFileInput): void {
    for (let d = posix.dirname(path); d !== '.'; d = posix.dirname(d)) {
      if (!this.files.has(d)) this.files.set(d, { type: 'directory', mode: 0o755 });
    }
    if (typeof v === 'string' || Buffer.isBuffer(v)) this.files.set(path, { type: 'file', content: Buffer.from(v), mode: 0o644 });
    else if ('link' in v) this.files.set(path, { type: 'symlink', target: v.link });
    else this.files.set(path, { type: 'directory', mode: 0o755 });
  }

  get(path: string): MemoryFile | undefined {
    return this.files.get(path);
  }

  content(path: string): string | undefined {
    const f = this.files.get(path);
    return f?.type === 'file' ? f.content.toString('utf8') : undefined;
  }

  async read(relPath: string): Promise<FileEntrySource | null> {
    const rel = relPath.replace(/^\/+|\/+$/g, '');
    const names = [...this.files.keys()].filter((n) => rel === '' || n === rel || n.startsWith(`${rel}/`)).sort();
    if (rel !== '' && !this.files.has(rel)) return null;
    const files = this.files;
    const mtimes = this.mtimes;
    async function* gen(): AsyncGenerator<FileEntry> {
      for (const name of names) {
        const f = files.get(name)!;
        yield {
          path: name,
          type: f.type,
          mode: f.type === 'symlink' ? 0o777 : f.mode,
          mtime: mtimes.get(name) ?? new Date(0),
          size: f.type === 'file' ? f.content.length : 0,
          linkTarget: f.type === 'symlink' ? f.target : '',
          body: Readable.from(f.type === 'file' ? [f.content] : [], { objectMode: false }),
        };
      }
    }
    return gen();
  }

  async write(tar: Readable): Promise<void> {
    const ex = extract();
    tar.pipe(ex);
    let count = 0;
    for await (const entry of ex) {
      const h = entry.header;
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const name = posix.normalize(h.name).replace(/\/+$/, '');
      if (name.startsWith('..') || name.startsWith('/')) throw new Error(`tar entry escapes the project: ${h.name}`);
      if (h.type === 'directory') this.set(name, { dir: true });
      else if (h.type === 'symlink') this.set(name, { link: h.linkname ?? '' });
      else this.files.set(name, { type: 'file', content: Buffer.concat(chunks), mode: h.mode ?? 0o644 });
      count++;
    }
    this.writes.push(count);
  }

  tracked(): ReadonlySet<string> | null {
    return this.trackedFiles && new Set(this.trackedFiles);
  }
}
