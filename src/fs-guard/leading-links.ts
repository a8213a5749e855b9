/**
 * Git's "beyond a symbolic link" check for files listed relative to a root: a path whose parent
 * directory was replaced by a link (an uncommitted change) must not be read through the link.
 * Every parent component is checked with lstat, once per directory.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';

export class LeadingLinkCheck {
  /** Directory (relative) → whether it is a real directory. */
  private readonly dirs = new Map<string, Promise<boolean>>();

  constructor(private readonly root: string) {}

  /** The first parent of `rel` that is not a real directory (a link, a file, missing), or null. */
  async firstBadParent(rel: string): Promise<string | null> {
    const parts = rel.split('/');
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix ? `${prefix}/${parts[i]}` : parts[i]!;
      if (!(await this.isRealDir(prefix))) return prefix;
    }
    return null;
  }

  private isRealDir(rel: string): Promise<boolean> {
    let known = this.dirs.get(rel);
    if (!known) {
      known = lstat(join(this.root, rel)).then((st) => st.isDirectory(), () => false);
      this.dirs.set(rel, known);
    }
    return known;
  }
}
