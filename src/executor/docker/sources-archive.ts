/**
 * Packs what a job needs in its build directory into one tar stream, extracted at `/` in the
 * build container: the project's files under CI_PROJECT_DIR and the file variables under
 * `<CI_PROJECT_DIR>.tmp`. Files are read, never modified; modes keep their execute bits and
 * are opened to everyone (as gitlab-runner's umask 0000), so images with a non-root user can
 * write the build directory. Owners are root. A file is never read through a link: a listed
 * path whose folder is a symbolic link fails the archive (git refuses such paths too), and each
 * file is opened with O_NOFOLLOW and must still be a regular file.
 */
import { close as fsClose, constants, createReadStream, fstat as fsFstat, open as fsOpen, read as fsRead, type Stats } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { pack, type Header, type Pack } from 'tar-stream';
import { LeadingLinkCheck } from '../../fs-guard/index.js';
import { projectTempDir } from '../../job/build-dir.js';
import { BerthError } from '../../shared/errors.js';

type EntryHeader = Partial<Header> & Pick<Header, 'name'>;

export interface ArchiveInput {
  /** Absolute path inside the container (CI_PROJECT_DIR). */
  projectDir: string;
  /** Host folder the files are read from, and their paths relative to it. */
  source: { root: string; files: readonly string[] } | null;
  /** File variables: written to `<projectDir>.tmp/<key>`. */
  fileVariables: readonly { key: string; value: string }[];
}

export interface SourcesArchive {
  stream: Readable;
  /** Resolves with the number of project files packed once the stream is complete. */
  done: Promise<number>;
}

const DIR_MODE = 0o777;

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
  const root = input.projectDir.replace(/^\/+/, '');
  const dirs = new Set<string>();
  const ensureDir = async (dir: string): Promise<void> => {
    if (!dir || dir === '.' || dirs.has(dir)) return;
    await ensureDir(posix.dirname(dir));
    dirs.add(dir);
    await entry(tar, { name: `${dir}/`, type: 'directory', mode: DIR_MODE });
  };

  await ensureDir(root);
  const tmp = projectTempDir(root);
  await ensureDir(tmp);
  for (const v of input.fileVariables) {
    await entry(tar, { name: `${tmp}/${v.key}`, type: 'file', mode: 0o666 }, Buffer.from(v.value, 'utf8'));
  }

  let count = 0;
  const source = input.source;
  if (!source) return count;
  const links = new LeadingLinkCheck(source.root);
  const paths = source.files.map((rel) => posix.normalize(rel)).filter((safe) => !(safe.startsWith('../') || safe === '..' || posix.isAbsolute(safe)));
  // The files are read ahead, a few at a time, and written in list order: one file's open,
  // fstat, read and close (each a round trip to libuv's thread pool) no longer wait for the
  // previous file's. Small files are read whole; larger ones are streamed when their turn comes.
  const ahead = new Map<number, Promise<Loaded>>();
  const start = (i: number): void => {
    if (i >= paths.length) return;
    const loading = load(source.root, paths[i]!, links);
    loading.catch(() => undefined); // awaited in its turn; a later one's failure must not go unhandled
    ahead.set(i, loading);
  };
  for (let i = 0; i < READ_AHEAD; i++) start(i);
  for (let i = 0; i < paths.length; i++) {
    const loaded = await ahead.get(i)!;
    ahead.delete(i);
    start(i + READ_AHEAD);
    if (loaded.kind === 'skip') continue;
    const name = `${root}/${paths[i]}`;
    await ensureDir(posix.dirname(name));
    if (loaded.kind === 'symlink') {
      await entry(tar, { name, type: 'symlink', linkname: loaded.target, mode: 0o777 });
    } else if (loaded.kind === 'file') {
      await entry(tar, { name, type: 'file', mode: loaded.mode, size: loaded.body.length, mtime: loaded.mtime }, loaded.body);
    } else if (!(await fileEntry(tar, name, join(source.root, paths[i]!)))) {
      continue;
    }
    count++;
  }
  return count;
}

/** How many files are read ahead of the one being written; files up to SMALL_FILE are read whole. */
const READ_AHEAD = 8;
const SMALL_FILE = 256 * 1024;

type Loaded =
  | { kind: 'skip' }
  | { kind: 'symlink'; target: string }
  | { kind: 'file'; body: Buffer; mode: number; mtime: Date }
  | { kind: 'large' };

/**
 * What `rel` is, without following a link: a symbolic link (its target), a small regular file
 * (its bytes), a large one (streamed later), or gone / something else (skipped: sockets, FIFOs,
 * devices, folders such as submodules). Throws when a folder on its path is a link.
 */
async function load(root: string, rel: string, links: LeadingLinkCheck): Promise<Loaded> {
  const bad = await links.firstBadParent(rel);
  if (bad?.kind === 'link') {
    throw new BerthError('unsafe_source_path', `Refusing to copy ${rel}: its folder ${bad.parent} in ${root} is a symbolic link; berth never reads sources through links. Replace the link with the folder`);
  }
  if (bad) return { kind: 'skip' }; // gone since it was listed
  const hostPath = join(root, rel);
  // The callback API on a plain descriptor: a FileHandle per file costs several times its CPU.
  let fd: number;
  try {
    fd = await openFd(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    // O_NOFOLLOW on a symbolic link: ELOOP. Anything else: deleted or unreadable since it was listed.
    if ((err as NodeJS.ErrnoException).code !== 'ELOOP') return { kind: 'skip' };
    const target = await readlink(hostPath).catch(() => null);
    return target === null ? { kind: 'skip' } : { kind: 'symlink', target };
  }
  try {
    const st = await fstatFd(fd);
    if (!st.isFile()) return { kind: 'skip' };
    if (st.size > SMALL_FILE) return { kind: 'large' };
    const body = Buffer.allocUnsafe(st.size);
    let filled = 0;
    while (filled < body.length) {
      const bytesRead = await readFd(fd, body, filled, body.length - filled, filled);
      if (bytesRead === 0) break; // shortened since its fstat: what is there
      filled += bytesRead;
    }
    return { kind: 'file', body: body.subarray(0, filled), mode: fileMode(st.mode), mtime: st.mtime };
  } finally {
    await closeFd(fd);
  }
}

const openFd = (path: string, flags: number): Promise<number> => new Promise((resolve, reject) => fsOpen(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
const fstatFd = (fd: number): Promise<Stats> => new Promise((resolve, reject) => fsFstat(fd, (err, st) => (err ? reject(err) : resolve(st))));
const readFd = (fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> =>
  new Promise((resolve, reject) => fsRead(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
const closeFd = (fd: number): Promise<void> => new Promise((resolve) => fsClose(fd, () => resolve()));

/** Execute bits kept, open to everyone (gitlab-runner's umask 0000). */
const fileMode = (mode: number): number => (mode & 0o111 ? 0o777 : 0o666);

function entry(tar: Pack, header: EntryHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    tar.entry({ ...header, uid: 0, gid: 0 }, body ?? '', (err) => (err ? reject(err) : resolve()));
  });
}

/** Packs a regular file opened without following links; false when it is no longer one. */
async function fileEntry(tar: Pack, name: string, hostPath: string): Promise<boolean> {
  const handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return false; // replaced by a link or removed since it was listed
  try {
    const st = await handle.stat();
    if (!st.isFile()) return false;
    const mode = fileMode(st.mode);
    const header = { name, type: 'file' as const, mode, size: st.size, mtime: st.mtime };
    if (st.size === 0) {
      await entry(tar, header, Buffer.alloc(0));
    } else {
      const sink = tar.entry({ ...header, uid: 0, gid: 0 });
      await pipeline(createReadStream('', { fd: handle.fd, autoClose: false, start: 0, end: st.size - 1 }), sink);
    }
    return true;
  } finally {
    await handle.close();
  }
}
