/**
 * writeSourcesToDir: the entries of sourceEntries written straight into a folder of berth's host
 * that the build container mounts (the job's builds volume, see builds-volume.ts), in place of a
 * tar through the Engine's archive API. The same files, modes, links and mtimes as packSources;
 * owned by the folder's owner (root for a rootful engine, the remapped root under userns-remap).
 *
 * The folder is a volume berth has just created and no container has run anything in yet, so
 * it holds nothing but what is written here; even so every entry is made with O_EXCL/O_NOFOLLOW
 * semantics (a file, a folder or a link is created, never opened through an existing one).
 */
import { close, constants, createWriteStream, fchmod, fchown, futimes, open, write } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { withLargeFile, sourceEntries, type SourcesInput } from './source-entries.js';

export interface DirTarget {
  /** The host folder, as the container sees it at `mountedAt`. */
  dir: string;
  /** Where the container mounts it (CI_BUILDS_DIR): entries outside it are not written. */
  mountedAt: string;
  /** Owner for everything written; null: berth's own user. */
  owner: { uid: number; gid: number } | null;
}

const openAsync = promisify(open);
const writeAsync = promisify(write);
const fchmodAsync = promisify(fchmod);
const fchownAsync = promisify(fchown);
const futimesAsync = promisify(futimes);
const closeAsync = promisify(close);

/** How many files are written at once (each a few thread-pool round trips). */
const WRITE_WINDOW = 8;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Writes the entries; resolves with the number of project files written (as packSources counts them). */
export async function writeSourcesToDir(target: DirTarget, input: SourcesInput, signal: AbortSignal): Promise<number> {
  const base = target.mountedAt.replace(/^\/+|\/+$/g, '');
  const hostPath = (name: string): string | null => {
    if (name === base) return target.dir;
    if (base !== '' && !name.startsWith(`${base}/`)) return null;
    return join(target.dir, ...(base === '' ? name : name.slice(base.length + 1)).split('/'));
  };
  let count = 0;
  // A name listed twice is written once (a tar would write it again: the same file).
  const written = new Set<string>();
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    const t = p.finally(() => pending.delete(t));
    t.catch(() => undefined); // awaited below
    pending.add(t);
  };
  try {
    for await (const e of sourceEntries(input)) {
      signal.throwIfAborted();
      const path = hostPath(e.name);
      if (path === null) {
        if (e.type === 'directory' && posix.relative(e.name, base).split('/')[0] !== '..') continue; // a parent of the mount
        throw new Error(`${e.name} is outside ${target.mountedAt}, where the builds volume is mounted`);
      }
      if (written.has(path)) continue;
      written.add(path);
      if (e.type === 'directory') {
        // Folders before what they hold: wait for the writes in flight, then make it.
        await Promise.all(pending);
        await makeDir(path, e.mode, target.owner);
        continue;
      }
      if (pending.size >= WRITE_WINDOW) await Promise.race(pending);
      if (e.type === 'symlink') {
        track(makeLink(path, e.target, target.owner));
        count++;
      } else if (e.type === 'file') {
        track(writeFile(path, e.body, e.mode, e.mtime, target.owner));
        if (e.project) count++;
      } else {
        const counted = copyLargeFile(path, e.hostPath, target.owner).then((copied) => {
          if (copied) count++;
        });
        track(counted);
      }
    }
    await Promise.all(pending);
  } catch (err) {
    await Promise.allSettled(pending);
    throw err;
  }
  return count;
}

/** Makes a folder (or takes the one there, which must be a real folder) with exactly `mode`. */
async function makeDir(path: string, mode: number, owner: DirTarget['owner']): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await lstat(path);
    if (!st.isDirectory()) throw new Error(`${path} exists and is not a folder`, { cause: err });
  }
  // lstat just showed a folder in a volume nothing else writes to: chmod/chown cannot be led astray.
  await chmod(path, mode); // mkdir's mode went through the umask
  if (owner) await chown(path, owner.uid, owner.gid);
}

async function makeLink(path: string, target: string, owner: DirTarget['owner']): Promise<void> {
  await symlink(target, path);
  if (owner) await lchown(path, owner.uid, owner.gid);
}

async function writeFile(path: string, body: Buffer, mode: number, mtime: Date | undefined, owner: DirTarget['owner']): Promise<void> {
  const fd = await openAsync(path, CREATE, mode);
  try {
    for (let at = 0; at < body.length; ) at += (await writeAsync(fd, body, at, body.length - at, at)).bytesWritten;
    await finish(fd, mode, mtime, owner);
  } finally {
    await closeAsync(fd);
  }
}

/** Sets the exact mode (open's went through the umask), the owner and the mtime of a written file. */
async function finish(fd: number, mode: number, mtime: Date | undefined, owner: DirTarget['owner']): Promise<void> {
  await fchmodAsync(fd, mode);
  if (owner) await fchownAsync(fd, owner.uid, owner.gid);
  if (mtime) await futimesAsync(fd, mtime, mtime);
}

/** Copies a large file opened without following links; false when it is no longer a regular file. */
function copyLargeFile(path: string, hostPath: string, owner: DirTarget['owner']): Promise<boolean> {
  return withLargeFile(hostPath, async ({ bytes, stats, mode }) => {
    const fd = await openAsync(path, CREATE, mode);
    try {
      if (bytes) await pipeline(bytes, createWriteStream('', { fd, autoClose: false }));
      await finish(fd, mode, stats.mtime, owner);
    } finally {
      await closeAsync(fd);
    }
  });
}
