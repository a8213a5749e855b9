/**
 * `rules:exists` against the project's files (the same list `berth exec` copies into jobs),
 * read once, lazily. Globs as GitLab's fnmatch: `*` within a directory, `**` across, dot
 * files included. A plain path also matches a directory that holds files.
 */
import { expandString } from '../../shared/expand-string.js';
import type { VariableLookup } from './expression-evaluator.js';
import { listSourceFiles } from '../project/source-files.js';

export class ExistsChecker {
  private list: Promise<string[]> | null = null;
  private set: Set<string> | null = null;

  constructor(
    private readonly root: string,
    private readonly isRepo: boolean,
  ) {}

  /** The project's files, listed once. */
  files(): Promise<string[]> {
    this.list ??= listSourceFiles(this.root, this.isRepo);
    return this.list;
  }

  async any(patterns: string[], lookup: VariableLookup): Promise<boolean> {
    const files = await this.files();
    this.set ??= new Set(files);
    for (const raw of patterns) {
      const pattern = expandString(raw, lookup).replace(/^(\.\/|\/)+/, '');
      if (!/[*?[\]{}]/.test(pattern)) {
        const dir = pattern.replace(/\/+$/, '');
        if (this.set.has(dir) || files.some((f) => f.startsWith(`${dir}/`))) return true;
        continue;
      }
      const { default: picomatch } = await import('picomatch');
      const match = picomatch(pattern, { dot: true });
      if (files.some((f) => match(f))) return true;
    }
    return false;
  }
}
