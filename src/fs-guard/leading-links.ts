/**
 * Git's "beyond a symbolic link" check for files listed relative to a root: a path whose parent
 * directory was replaced by a link (an uncommitted change) must not be read through the link.
 * Every parent component is checked with lstat, once per directory.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';

export type ParentKind = 'dir' | 'link' | 'other';

export class LeadingLinkCheck {
  /** Directory (relative) → what it is in the working tree. */
  private readonly dirs = new Map<string, Promise<ParentKind>>();

  constructor(readonly root: string) {}

  /**
   * The first parent of `rel` that is not a real directory, and whether it is a link (else it is
   * missing or a file: the path is simply gone); null when every parent is a real directory.
   */
  async firstBadParent(rel: string): Promise<{ parent: string; kind: Exclude<ParentKind, 'dir'> } | null> {
    const parts = rel.split('/');
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix ? `${prefix}/${parts[i]}` : parts[i]!;
      const kind = await this.kindOf(prefix);
      if (kind !== 'dir') return { parent: prefix, kind };
    }
    return null;
  }

  private kindOf(rel: string): Promise<ParentKind> {
    let known = this.dirs.get(rel);
    if (!known) {
      known = lstat(join(this.root, rel)).then(
        (st): ParentKind => (st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other'),
        (): ParentKind => 'other',
      );
      this.dirs.set(rel, known);
    }
    return known;
  }
}
