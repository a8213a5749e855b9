/**
 * The files `berth exec` copies into a job: in a git repository, the tracked files that
 * exist in the working tree (their current content, committed or not; untracked and deleted
 * files are left out, and so are submodules: see submodule-files.ts); elsewhere, every regular file under the
 * directory except `.git/` and `.berth/`. Paths are relative to `root`, with '/' (in a
 * repository, only the files under `root` are listed). A tracked file whose folder was replaced by
 * a symbolic link is refused (an input error), as git refuses paths beyond a link: it would be
 * read from wherever the link points.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, InputError } from '../../shared/errors.js';
import { runHostGit } from './host-git.js';
import { LeadingLinkCheck } from '../../fs-guard/index.js';
import { findGitRoot } from './local-git.js';

/** berth's own folder in a project (`berth exec` writes its job logs there); never a job's source. */
export const PROJECT_BERTH_DIR = '.berth';

/** `isRepo` defaults to whether `root` is inside a git working tree. */
export async function listSourceFiles(root: string, isRepo?: boolean): Promise<string[]> {
  const repo = isRepo ?? (await findGitRoot(root)) !== null;
  return repo ? listTrackedFiles(root) : listTreeFiles(root);
}

async function listTrackedFiles(root: string): Promise<string[]> {
  return (await listTracked(root)).files;
}

/**
 * The tracked files of the working tree at `root` that are there (relative), and its
 * submodules (gitlinks, mode 160000), as git lists them; `links` checks the files' folders (a
 * submodule's files are checked against the top repository's root, with its path as `prefix`).
 */
export async function listTracked(root: string, links = new LeadingLinkCheck(root), prefix = ''): Promise<{ files: string[]; gitlinks: string[] }> {
  const out = await runHostGit(root, ['ls-files', '-z', '--cached', '--deleted', '-t', '-s'], { maxBuffer: 512 * 1024 * 1024 }).catch((err: unknown) => {
    if (err instanceof BerthError) throw err;
    throw new BerthError('git_error', `Failed to list the tracked files of ${root} with "git ls-files": ${(err as Error).message}`, { cause: err });
  });
  const files = new Set<string>();
  const deleted = new Set<string>();
  const maybe: string[] = [];
  const gitlinks: string[] = [];
  for (const entry of out.split('\0')) {
    // "<tag> <mode> <object> <stage>\t<path>"
    const m = /^(\S) (\d+) \S+ \d\t(.*)$/s.exec(entry);
    if (!m) continue;
    const [, tag, mode, path] = m as unknown as [string, string, string, string];
    if (mode === '160000') {
      gitlinks.push(path);
      continue;
    }
    const t = tag.toUpperCase();
    if (t === 'R') deleted.add(path);
    else if (t === 'S') maybe.push(path);
    else files.add(path);
  }
  for (const path of maybe) {
    if (await lstat(join(root, path)).then(() => true, () => false)) files.add(path);
  }
  const present: string[] = [];
  for (const path of [...files].filter((f) => !deleted.has(f)).sort()) {
    const bad = await links.firstBadParent(prefix + path);
    if (bad?.kind === 'link') {
      throw new InputError(
        `Refusing to copy ${prefix + path} into the jobs: its folder ${bad.parent} is a symbolic link in the working tree ${links.root}, but git tracks files inside it, and berth never reads through links out of the repository. Replace the link with the folder (rm ${bad.parent} && git checkout -- ${bad.parent}) or commit the change`,
        { file: join(root, path) },
      );
    }
    if (!bad) present.push(path);
  }
  return { files: present, gitlinks };
}

async function listTreeFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name === '.git' || (prefix === '' && e.name === PROJECT_BERTH_DIR)) continue;
        await walk(join(dir, e.name), rel);
      } else if (e.isFile()) {
        files.push(rel);
      }
    }
  };
  await walk(root, '');
  return files.sort();
}
