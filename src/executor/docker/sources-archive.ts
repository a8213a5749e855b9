/**
 * Packs what a job needs in its build directory into one tar stream, extracted at `/` in the
 * build container: the project's files under CI_PROJECT_DIR and the file variables under
 * `<CI_PROJECT_DIR>.tmp`. Files are read, never modified; modes keep their execute bits and
 * are opened to everyone (as gitlab-runner's umask 0000), so images with a non-root user can
 * write the build directory. Owners are root. A file is never read through a link: a listed
 * path whose folder is a symbolic link fails the archive (git refuses such paths too), and each
 * file is opened with O_NOFOLLOW and must still be a regular file.
 */
import { constants, createReadStream } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
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
  const links = input.source ? new LeadingLinkCheck(input.source.root) : null;
  for (const rel of input.source?.files ?? []) {
    const safe = posix.normalize(rel);
    if (safe.startsWith('../') || safe === '..' || posix.isAbsolute(safe)) continue;
    const hostPath = join(input.source!.root, safe);
    const bad = await links!.firstBadParent(safe);
    if (bad?.kind === 'link') {
      throw new BerthError('unsafe_source_path', `Refusing to copy ${safe}: its folder ${bad.parent} in ${input.source!.root} is a symbolic link; berth never reads sources through links. Replace the link with the folder`);
    }
    if (bad) continue; // gone since it was listed
    const st = await lstat(hostPath).catch(() => null);
    if (!st) continue; // deleted since it was listed
    const name = `${root}/${safe}`;
    await ensureDir(posix.dirname(name));
    if (st.isSymbolicLink()) {
      await entry(tar, { name, type: 'symlink', linkname: await readlink(hostPath), mode: 0o777 });
    } else if (st.isFile()) {
      if (!(await fileEntry(tar, name, hostPath))) continue;
    } else {
      continue; // sockets, devices, submodule folders
    }
    count++;
  }
  return count;
}

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
    const mode = st.mode & 0o111 ? 0o777 : 0o666;
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
