/**
 * In-memory project directories for tests of the file-entry code (selection, archives): a list
 * of entries, read like ProjectFiles.read (the entry itself first, then everything under it,
 * links never followed) and a tracked set like ProjectFiles.tracked().
 */
import { Readable } from 'node:stream';
import type { FileEntry, FileEntrySource, FileEntryType } from '../../src/artifacts/file-entry.js';

export interface EntrySpec {
  path: string;
  type: FileEntryType;
  /** File content (files only). */
  content?: string;
  linkTarget?: string;
  mode?: number;
  mtime?: Date;
}

/** `dir/` is a directory, `a -> b` a link, anything else a file (content: its path). */
export function entries(...specs: string[]): EntrySpec[] {
  return specs.map((s) => {
    if (s.endsWith('/')) return { path: s.slice(0, -1), type: 'directory' };
    const arrow = s.indexOf(' -> ');
    if (arrow !== -1) return { path: s.slice(0, arrow), type: 'symlink', linkTarget: s.slice(arrow + 4) };
    return { path: s, type: 'file', content: s };
  });
}

export interface MemoryProject {
  read(relPath: string, signal: AbortSignal): Promise<FileEntrySource | null>;
  tracked(): ReadonlySet<string> | null;
  /** Every relPath given to read(), in order. */
  readonly reads: string[];
  /** How many entries the reads produced in all. */
  readonly produced: () => number;
}

/**
 * A project directory holding `specs` (parents are added as directories; the root is the entry
 * with path ''). Entries come in lexical order, a directory before what is under it.
 */
/** `tracked` null: the project directory is no git repository. */
export function memoryProject(specs: EntrySpec[], tracked: string[] | null = []): MemoryProject {
  const byPath = new Map<string, EntrySpec>([['', { path: '', type: 'directory' }]]);
  for (const s of specs) {
    const parts = s.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { path: dir, type: 'directory' });
    }
    byPath.set(s.path, s);
  }
  const sorted = [...byPath.values()].sort((a, b) => compareWalk(a.path, b.path));
  const reads: string[] = [];
  let produced = 0;
  const trackedSet = tracked && new Set(tracked);
  return {
    reads,
    produced: () => produced,
    tracked: () => trackedSet,
    read(relPath: string): Promise<FileEntrySource | null> {
      reads.push(relPath);
      const self = byPath.get(relPath);
      if (self === undefined || isBelowLink(relPath, byPath)) return Promise.resolve(null);
      const under = self.type === 'directory'
        ? sorted.filter((s) => s.path !== relPath && (relPath === '' || s.path.startsWith(`${relPath}/`)))
        : [];
      const list = [self, ...under];
      async function* gen(): AsyncGenerator<FileEntry> {
        for (const s of list) {
          produced++;
          await Promise.resolve();
          yield toEntry(s);
        }
      }
      return Promise.resolve(gen());
    },
  };
}

/** Reads a whole source, consuming each body; returns the entries with their content. */
export async function collect(source: FileEntrySource): Promise<{ path: string; type: FileEntryType; content: string }[]> {
  const out: { path: string; type: FileEntryType; content: string }[] = [];
  for await (const e of source) {
    const chunks: Buffer[] = [];
    for await (const c of e.body) chunks.push(Buffer.from(c as Buffer));
    out.push({ path: e.path, type: e.type, content: Buffer.concat(chunks).toString('utf8') });
  }
  return out;
}

function toEntry(s: EntrySpec): FileEntry {
  const content = s.type === 'file' ? Buffer.from(s.content ?? '') : Buffer.alloc(0);
  return {
    path: s.path,
    type: s.type,
    mode: s.mode ?? (s.type === 'directory' ? 0o755 : 0o644),
    mtime: s.mtime ?? new Date(0),
    size: content.length,
    linkTarget: s.type === 'symlink' ? (s.linkTarget ?? '') : '',
    body: Readable.from(content.length > 0 ? [content] : []),
  };
}

/** Nothing is read through a link: a path with a link above it does not exist for read(). */
function isBelowLink(relPath: string, byPath: Map<string, EntrySpec>): boolean {
  const parts = relPath.split('/');
  for (let i = 1; i < parts.length; i++) {
    if (byPath.get(parts.slice(0, i).join('/'))?.type === 'symlink') return true;
  }
  return false;
}

/** Walk order: by components, so `a/b` comes right after `a`, before `a-b`. */
function compareWalk(a: string, b: string): number {
  const pa = a === '' ? [] : a.split('/');
  const pb = b === '' ? [] : b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}
