/**
 * extractTarToDir: a tar stream (a dependency's artifacts, a restored cache: names relative to
 * CI_PROJECT_DIR) written straight into the project folder as berth's host sees it inside the
 * job's builds volume (see builds-volume.ts), in place of PUT /containers/{id}/archive: the
 * engine unpacks a tar in a re-executed, chrooted child of its own, two to three times slower
 * than writing the same files from here (bench/artifacts).
 *
 * The result is what the engine's unpacking leaves (moby pkg/archive Unpack): an entry replaces
 * what is at its path unless both are folders (then the folder keeps its content and takes the
 * entry's mode); missing parent folders are made (0755); files, folders and links get the
 * entry's mode and mtime, folders' mtimes last; everything is owned by the folder's owner (the
 * container's root, as the engine's copy without copyUIDGID).
 *
 * Nothing is ever opened or made through a symbolic link: files are created with
 * O_EXCL|O_NOFOLLOW, and every parent folder is checked with lstat before the first entry in it.
 * The engine resolves a link among the parents inside the container (it unpacks chrooted), which
 * cannot be done safely from the host: at the first entry whose parent is a link (or not a
 * folder), that entry and all the following ones go to `fallback` (the archive API) instead, in
 * order, after the writes in flight have ended. Only berth writes the folder meanwhile (no stage
 * runs in the build container, and a job with services never gets a builds volume on the host),
 * so what lstat saw stays true.
 */
import { close, constants, fchmod, fchown, futimes, open, write } from 'node:fs';
import { chmod, chown, lchown, lstat, lutimes, mkdir, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { extract, pack, type Header as Headers, type Pack } from 'tar-stream';
import { BerthError } from '../../shared/errors.js';

export interface HostProjectDir {
  /** CI_PROJECT_DIR on berth's host (inside the builds volume's data folder). */
  dir: string;
  /** Owner for everything written; null: berth's own user. */
  owner: { uid: number; gid: number } | null;
}

/** A tar berth was handed to write that it cannot: an entry outside the project folder, a file cut short. */
export class TarToDirError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('archive_error', message, options);
  }
}

const openAsync = promisify(open);
const writeAsync = promisify(write);
const fchmodAsync = promisify(fchmod);
const fchownAsync = promisify(fchown);
const futimesAsync = promisify(futimes);
const closeAsync = promisify(close);

/** Files written at once (each a few thread-pool round trips). */
const WRITE_WINDOW = 8;
/** Files up to this size are read whole before their write starts, so that several are written at once. */
const WHOLE_FILE = 1024 * 1024;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A tar-stream entry: a streamx Readable of the entry's bytes, with its header. */
type Entry = NodeJS.EventEmitter & AsyncIterable<Buffer> & { header: Headers; resume(): void; pipe(dest: unknown): unknown };

export async function extractTarToDir(
  target: HostProjectDir,
  tar: Readable,
  fallback: (rest: Readable) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const ex = extract();
  // The iterator first: tar-stream hands entries to whoever listens when they are parsed.
  const entries = ex[Symbol.asyncIterator]();
  tar.once('error', (err) => ex.destroy(err));
  tar.pipe(ex);
  const writer = new DirWriter(target);
  let rest: { pack: Pack; done: Promise<void> } | null = null;
  try {
    if (!(await isRealFolder(target.dir))) rest = startFallback(fallback);
    for await (const raw of { [Symbol.asyncIterator]: () => entries }) {
      signal.throwIfAborted();
      const entry = raw as unknown as Entry;
      if (!rest && !(await writer.entry(entry))) {
        await writer.settle();
        rest = startFallback(fallback);
      }
      if (rest) await forward(rest.pack, entry);
    }
    await writer.settle();
    await writer.folderTimes();
    if (rest) {
      rest.pack.finalize();
      await rest.done;
    }
  } catch (err) {
    await writer.settle().catch(() => undefined);
    rest?.pack.destroy(err as Error);
    await rest?.done.catch(() => undefined);
    throw err;
  } finally {
    tar.unpipe(ex);
    tar.destroy();
  }
}

function startFallback(fallback: (rest: Readable) => Promise<void>): { pack: Pack; done: Promise<void> } {
  const p = pack();
  const stream = new PassThrough();
  p.pipe(stream);
  p.once('error', (err: Error) => stream.destroy(err));
  const done = fallback(stream);
  done.catch(() => undefined);
  return { pack: p, done };
}

/** One entry into the fallback's tar, its body copied through. */
function forward(p: Pack, entry: Entry): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = p.entry(entry.header, (err) => (err ? reject(err) : resolve()));
    entry.pipe(sink);
  });
}

async function isRealFolder(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The writes of one extraction: the folders checked so far, the writes in flight. */
class DirWriter {
  /** Relative folders known to be real folders ('' is the project folder). */
  private readonly folders = new Set<string>(['']);
  private readonly pending = new Map<string, Promise<void>>();
  private readonly times: { path: string; mtime: Date }[] = [];
  private failure: Error | null = null;

  constructor(private readonly target: HostProjectDir) {}

  private host(rel: string): string {
    return rel ? join(this.target.dir, ...rel.split('/')) : this.target.dir;
  }

  /** Writes (or starts writing) one entry; false: it must go to the fallback (nothing of it written). */
  async entry(entry: Entry): Promise<boolean> {
    if (this.failure) throw this.failure;
    const h = entry.header;
    const rel = relativeName(h.name);
    const type = h.type === 'contiguous-file' ? 'file' : h.type;
    if (type !== 'file' && type !== 'directory' && type !== 'symlink') return false;
    if (rel === '') {
      entry.resume();
      if (type !== 'directory') return false;
      await this.settle();
      await this.setFolder('', h);
      return true;
    }
    if (!(await this.parentsAreFolders(rel))) return false;
    // A path written in flight, or a folder that may hold some: the earlier write first.
    if (this.conflicts(rel)) await this.settle();
    if (type === 'directory') {
      entry.resume();
      await this.settle();
      await this.makeFolder(rel, h);
      return true;
    }
    if (this.folders.has(rel)) {
      // A folder this extraction knows, replaced by a file or link: nothing may be in flight below it.
      await this.settle();
      await this.remove(rel);
    }
    if (type === 'symlink') {
      entry.resume();
      this.track(rel, this.makeLink(rel, h));
      return true;
    }
    const size = h.size ?? 0;
    if (size <= WHOLE_FILE) {
      const data = await readWhole(entry);
      if (this.pending.size >= WRITE_WINDOW) await Promise.race(this.pending.values());
      this.track(rel, this.writeFile(rel, h, async (fd) => writeAll(fd, data)));
    } else {
      await this.settle();
      await this.writeFile(rel, h, async (fd) => {
        let at = 0;
        for await (const chunk of entry) {
          await writeAll(fd, chunk, at);
          at += chunk.length;
        }
      });
    }
    return true;
  }

  /** Waits for the writes in flight; throws the first that failed. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.values());
    if (this.failure) throw this.failure;
  }

  /** Folders get their mtime last, as the engine sets them (writing into a folder changes it). */
  async folderTimes(): Promise<void> {
    for (const { path, mtime } of this.times.reverse()) {
      const st = await lstat(path).catch(() => null);
      if (st?.isDirectory()) await lutimes(path, mtime, mtime);
    }
  }

  private track(rel: string, work: Promise<void>): void {
    const p = work.catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new TarToDirError(String(err));
    }).finally(() => this.pending.delete(rel));
    this.pending.set(rel, p);
  }

  private conflicts(rel: string): boolean {
    if (this.pending.size === 0) return false;
    if (this.pending.has(rel)) return true;
    for (const p of this.pending.keys()) if (p.startsWith(`${rel}/`) || rel.startsWith(`${p}/`)) return true;
    return false;
  }

  /** Each parent of `rel` is a real folder (made when missing); false when one is a link or not a folder. */
  private async parentsAreFolders(rel: string): Promise<boolean> {
    const parts = rel.split('/');
    let parent = '';
    for (let i = 0; i < parts.length - 1; i++) {
      parent = parent ? `${parent}/${parts[i]}` : parts[i]!;
      if (this.folders.has(parent)) continue;
      await this.settle();
      const st = await lstat(this.host(parent)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (st && !st.isDirectory()) return false;
      if (!st) {
        await mkdir(this.host(parent), { mode: 0o755 });
        await chmod(this.host(parent), 0o755);
        if (this.target.owner) await chown(this.host(parent), this.target.owner.uid, this.target.owner.gid);
      }
      this.folders.add(parent);
    }
    return true;
  }

  private async makeFolder(rel: string, h: Headers): Promise<void> {
    const path = this.host(rel);
    const st = await lstat(path).catch(() => null);
    if (st && !st.isDirectory()) await unlink(path);
    if (!st || !st.isDirectory()) await mkdir(path, { mode: 0o700 });
    this.folders.add(rel);
    await this.setFolder(rel, h);
  }

  /** A real folder (lstat said so; nothing else writes here): its mode, owner and (later) mtime. */
  private async setFolder(rel: string, h: Headers): Promise<void> {
    const path = this.host(rel);
    await chmod(path, (h.mode ?? 0o755) & 0o7777);
    if (this.target.owner) await chown(path, this.target.owner.uid, this.target.owner.gid);
    if (h.mtime) this.times.push({ path, mtime: h.mtime });
  }

  /** Removes what is at `rel` (a link is removed, never followed), and forgets the folders there. */
  private async remove(rel: string): Promise<void> {
    await rm(this.host(rel), { recursive: true, force: true });
    for (const f of [...this.folders]) if (f === rel || f.startsWith(`${rel}/`)) this.folders.delete(f);
  }

  private async makeLink(rel: string, h: Headers): Promise<void> {
    const path = this.host(rel);
    const target = h.linkname ?? '';
    await symlink(target, path).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      await this.replaceExisting(rel);
      await symlink(target, path);
    });
    if (this.target.owner) await lchown(path, this.target.owner.uid, this.target.owner.gid);
    if (h.mtime) await lutimes(path, h.mtime, h.mtime);
  }

  private async writeFile(rel: string, h: Headers, fill: (fd: number) => Promise<void>): Promise<void> {
    const path = this.host(rel);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const fd = await openAsync(path, CREATE, mode).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      await this.replaceExisting(rel);
      return openAsync(path, CREATE, mode);
    });
    let complete = false;
    try {
      await fill(fd);
      await fchmodAsync(fd, mode); // open's mode went through the umask
      if (this.target.owner) await fchownAsync(fd, this.target.owner.uid, this.target.owner.gid);
      if (h.mtime) await futimesAsync(fd, h.mtime, h.mtime);
      complete = true;
    } finally {
      await closeAsync(fd);
      // A file whose content did not all arrive (a corrupt archive) is not left half written.
      if (!complete) await unlink(path).catch(() => undefined);
    }
  }

  /** What was there before this extraction (a file, a link, a folder it never listed) goes. */
  private async replaceExisting(rel: string): Promise<void> {
    const st = await lstat(this.host(rel));
    if (st.isDirectory()) {
      // A folder no earlier entry of this archive used (conflicts() saw none in flight).
      await this.remove(rel);
    } else {
      await unlink(this.host(rel));
    }
  }
}

async function writeAll(fd: number, data: Buffer, position = 0): Promise<void> {
  for (let at = 0; at < data.length; ) at += (await writeAsync(fd, data, at, data.length - at, position + at)).bytesWritten;
}

/**
 * The entry's name relative to the project folder: the tar's names are, without `./` or a
 * trailing slash. One that climbs out or is absolute was refused by the archive's reader
 * (zip-entry-path.ts); here it is an error all the same.
 */
function relativeName(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (name.startsWith('/') || parts.includes('..')) throw new TarToDirError(`the archive entry "${name}" is outside the project folder: nothing was written for it`);
  return parts.join('/');
}

function readWhole(body: Entry): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let ended = false;
    body.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
    });
    body.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
    });
    body.once('error', reject);
    body.once('close', () => {
      if (!ended) reject(new TarToDirError('the archive ended inside a file'));
    });
  });
}
