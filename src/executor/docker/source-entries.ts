/**
 * What goes into a job's build directory, as a list of entries in write order: the folders of
 * CI_PROJECT_DIR, the file variables under `<CI_PROJECT_DIR>.tmp`, then the project's files
 * (folders before what they hold). Names are absolute paths inside the container without their
 * leading `/`. Modes keep their execute bits and are opened to everyone (as gitlab-runner's
 * umask 0000), so images with a non-root user can write the build directory.
 *
 * Files are read, never modified, and never through a link: a listed path whose folder is a
 * symbolic link fails (git refuses such paths too), and each file is opened with O_NOFOLLOW and
 * must still be a regular file. Two writers consume the entries: packSources (a tar stream for
 * the Engine's archive API) and writeSourcesToDir (straight into the job's builds volume).
 */
import { close as fsClose, constants, createReadStream, fstat as fsFstat, open as fsOpen, read as fsRead, type Stats } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import type { Readable } from 'node:stream';
import { LeadingLinkCheck } from '../../fs-guard/index.js';
import { projectTempDir } from '../../job/build-dir.js';
import { BerthError } from '../../shared/errors.js';

export interface SourcesInput {
  /** Absolute path inside the container (CI_PROJECT_DIR). */
  projectDir: string;
  /** Host folder the files are read from, and their paths relative to it. */
  source: { root: string; files: readonly string[] } | null;
  /** File variables: written to `<projectDir>.tmp/<key>`. */
  fileVariables: readonly { key: string; value: string }[];
}

export type SourceEntry =
  | { type: 'directory'; name: string; mode: number }
  | { type: 'file'; name: string; mode: number; body: Buffer; mtime?: Date; project: boolean }
  /** A file too large to hold: the consumer reads it with withLargeFile when its turn comes. */
  | { type: 'large-file'; name: string; hostPath: string }
  | { type: 'symlink'; name: string; target: string };

export const DIR_MODE = 0o777;

/** The entries in write order; `project: true` on the project's own files (they are counted). */
export async function* sourceEntries(input: SourcesInput): AsyncGenerator<SourceEntry> {
  const root = input.projectDir.replace(/^\/+/, '');
  const dirs = new Set<string>();
  function* ensureDir(dir: string): Generator<SourceEntry> {
    if (!dir || dir === '.' || dirs.has(dir)) return;
    yield* ensureDir(posix.dirname(dir));
    dirs.add(dir);
    yield { type: 'directory', name: dir, mode: DIR_MODE };
  }

  yield* ensureDir(root);
  const tmp = projectTempDir(root);
  yield* ensureDir(tmp);
  for (const v of input.fileVariables) {
    yield { type: 'file', name: `${tmp}/${v.key}`, mode: 0o666, body: Buffer.from(v.value, 'utf8'), project: false };
  }

  const source = input.source;
  if (!source) return;
  const links = new LeadingLinkCheck(source.root);
  const paths = source.files.map((rel) => posix.normalize(rel)).filter((safe) => !(safe.startsWith('../') || safe === '..' || posix.isAbsolute(safe)));
  // The files are read ahead, a few at a time, and handed out in list order: one file's open,
  // fstat, read and close (each a round trip to libuv's thread pool) no longer wait for the
  // previous file's. Small files are read whole; larger ones are opened when their turn comes.
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
    yield* ensureDir(posix.dirname(name));
    if (loaded.kind === 'symlink') yield { type: 'symlink', name, target: loaded.target };
    else if (loaded.kind === 'file') yield { type: 'file', name, mode: loaded.mode, body: loaded.body, mtime: loaded.mtime, project: true };
    else yield { type: 'large-file', name, hostPath: join(source.root, paths[i]!) };
  }
}

/**
 * Hands a large file to `use`, opened without following links: its bytes as a stream (null when
 * it is empty), its stats and its open mode. False when it is no longer a regular file (replaced
 * by a link or removed since it was listed); the file is closed once `use` settles.
 */
export async function withLargeFile(
  hostPath: string,
  use: (file: { bytes: Readable | null; stats: Stats; mode: number }) => Promise<void>,
): Promise<boolean> {
  const handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return false;
  try {
    const stats = await handle.stat().catch(() => null);
    if (!stats?.isFile()) return false;
    const bytes = stats.size > 0 ? createReadStream('', { fd: handle.fd, autoClose: false, start: 0, end: stats.size - 1 }) : null;
    await use({ bytes, stats, mode: fileMode(stats.mode) });
    return true;
  } finally {
    await handle.close();
  }
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
 * (its bytes), a large one (opened later), or gone / something else (skipped: sockets, FIFOs,
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
