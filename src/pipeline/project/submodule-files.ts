/**
 * `berth exec` with GIT_SUBMODULE_STRATEGY normal or recursive: the tracked files of each
 * submodule checked out in the working tree (`git -C <submodule> ls-files`, through host-git.ts
 * like the top repository's, so a submodule's own .git/config runs nothing either), recursively
 * for `recursive`, the top level's chosen by GIT_SUBMODULE_PATHS (git pathspecs, as
 * `git submodule update -- <paths>` takes them: `git ls-files` reads them the same way). berth
 * exec never fetches: a submodule that is not checked out gets a warning saying how to check it
 * out. No file is read through a link (LeadingLinkCheck from the top repository's root), and a
 * submodule's `.git` is not copied, as the top repository's is not.
 *
 * One listing per strategy and paths per run, shared by the jobs that ask for the same; nothing
 * is read for jobs without submodules.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../shared/errors.js';
import { LeadingLinkCheck } from '../../fs-guard/index.js';
import { runHostGit } from './host-git.js';
import { listTracked } from './source-files.js';

export interface SubmoduleFiles {
  /** Relative to the working tree's root, sorted. */
  files: string[];
  /** One per submodule that is not checked out. */
  warnings: string[];
}

export class LocalSubmodules {
  private readonly listings = new Map<string, Promise<SubmoduleFiles>>();

  /** `root`: the folder berth exec copies (a git working tree, or a folder inside one). */
  constructor(private readonly root: string) {}

  list(recursive: boolean, paths: readonly string[]): Promise<SubmoduleFiles> {
    const key = JSON.stringify([recursive, paths]);
    let listing = this.listings.get(key);
    if (!listing) {
      listing = this.read(recursive, paths);
      this.listings.set(key, listing);
    }
    return listing;
  }

  private async read(recursive: boolean, paths: readonly string[]): Promise<SubmoduleFiles> {
    const links = new LeadingLinkCheck(this.root);
    const files: string[] = [];
    const warnings: string[] = [];
    const visit = async (prefix: string, gitlinks: readonly string[]): Promise<void> => {
      for (const gitlink of gitlinks) {
        const path = prefix + gitlink;
        const bad = await links.firstBadParent(`${path}/.git`);
        if (bad?.kind === 'link') {
          throw new InputError(
            `Refusing to copy the submodule ${path} into the jobs: ${bad.parent} is a symbolic link in the working tree ${this.root}, and berth never reads through links out of the repository. Replace the link with the folder (rm ${bad.parent} && git submodule update --init ${bad.parent})`,
            { file: join(this.root, path) },
          );
        }
        const checkedOut = !bad && (await lstat(join(this.root, path, '.git')).then(() => true, () => false));
        if (!checkedOut) {
          warnings.push(
            `The submodule ${path} is not checked out in the working tree: its files are not copied into the job (berth exec never fetches). Check it out with: git submodule update --init${recursive ? ' --recursive' : ''}`,
          );
          continue;
        }
        const listed = await listTracked(join(this.root, path), links, `${path}/`);
        for (const f of listed.files) files.push(`${path}/${f}`);
        if (recursive) await visit(`${path}/`, listed.gitlinks);
      }
    };
    await visit('', await this.topGitlinks(paths));
    return { files: files.sort(), warnings };
  }

  /** The submodules of the top repository under the root, those `paths` match when given. */
  private async topGitlinks(paths: readonly string[]): Promise<string[]> {
    const out = await runHostGit(this.root, ['ls-files', '-z', '--stage', ...(paths.length ? ['--', ...paths] : [])], { maxBuffer: 512 * 1024 * 1024 });
    const gitlinks = new Set<string>(); // once, also when a merge conflict lists it per stage
    for (const entry of out.split('\0')) {
      const m = /^160000 \S+ \d\t(.*)$/s.exec(entry);
      if (m) gitlinks.add(m[1]!);
    }
    return [...gitlinks];
  }
}
