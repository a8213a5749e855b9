/**
 * The digest of `cache:key:files`, computed here as GitLab computes it at pipeline creation
 * (lib/gitlab/ci/pipeline/seed/build/cache.rb): the listed paths (a path with `*` is a glob over
 * the project's files, app/models/repository.rb search_files_by_wildcard_path: `**` any text,
 * `*` any text without '/', everything else literal), the git blob id of each matched file, and
 * SHA1 of the sorted unique ids joined with '-'. Nothing matched: null (GitLab then uses
 * `default`).
 *
 * GitLab reads the blobs at the pipeline's commit; berth exec reads the working tree (the same
 * files it copies into the jobs): blob id = sha1("blob <size>\0" + content), as `git hash-object`
 * gives without filters. A symbolic link's blob is its target text, read with readlink, never
 * followed. Files are read through src/fs-guard: nothing outside the repository is read.
 *
 * `cache:key:files_commits` (same GitLab file): the id of the last commit at HEAD that changed
 * each listed path (plain paths, no globs), read with git; uncommitted changes do not count, as
 * GitLab sees only commits. Outside a git repository, or for a path no commit touched: nothing.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularFile, resolveInside } from '../../fs-guard/index.js';
import { InputError } from '../../shared/errors.js';
import { runHostGit } from './host-git.js';

/** Lock files are small; a larger file is refused rather than held in memory. */
export const MAX_KEY_FILE_BYTES = 256 * 1024 * 1024;

export class CacheKeyFiles {
  private readonly digests = new Map<string, Promise<string | null>>();
  private readonly blobIds = new Map<string, Promise<string>>();

  /**
   * `files`: the project's files (relative, '/'-separated), listed once by the caller;
   * `isRepo`: whether `root` is in a git repository (files_commits asks git).
   */
  constructor(
    private readonly root: string,
    private readonly files: () => Promise<string[]>,
    private readonly isRepo = false,
  ) {}

  /** SHA1 hex of the last commit ids of the paths (key:files_commits), or null when none has one. */
  commitsDigest(paths: readonly string[]): Promise<string | null> {
    const wanted = [...new Set(paths.filter((p) => p !== ''))];
    const id = `commits:${JSON.stringify(wanted)}`;
    let found = this.digests.get(id);
    if (!found) {
      found = Promise.all(wanted.map((p) => this.lastCommit(p))).then((ids) => digestOf(ids.filter((c): c is string => c !== null)));
      this.digests.set(id, found);
    }
    return found;
  }

  private async lastCommit(path: string): Promise<string | null> {
    if (!this.isRepo) return null;
    // A literal pathspec: GitLab looks the path up as written, `*` included.
    const out = await runHostGit(this.root, ['log', '--no-ext-diff', '--no-textconv', '-1', '--format=%H', 'HEAD', '--', `:(literal)${path}`]).catch(() => '');
    return /^[0-9a-f]{40,64}$/.test(out.trim()) ? out.trim() : null;
  }

  /** SHA1 hex of the matched files' blob ids, or null when no file matches. */
  digest(patterns: readonly string[]): Promise<string | null> {
    const wanted = [...new Set(patterns.filter((p) => p !== ''))];
    const id = JSON.stringify(wanted);
    let found = this.digests.get(id);
    if (!found) {
      found = this.compute(wanted);
      this.digests.set(id, found);
    }
    return found;
  }

  private async compute(patterns: string[]): Promise<string | null> {
    const files = await this.files();
    const present = new Set(files);
    const matched = new Set<string>();
    for (const pattern of patterns) {
      if (pattern.includes('*')) {
        const re = wildcardRegExp(pattern);
        for (const f of files) if (re.test(f)) matched.add(f);
      } else if (present.has(pattern)) {
        // GitLab's blobs_at: a plain path counts when it is a file at the commit.
        matched.add(pattern);
      }
    }
    return digestOf(await Promise.all([...matched].map((f) => this.blobId(f))));
  }

  private blobId(path: string): Promise<string> {
    let id = this.blobIds.get(path);
    if (!id) {
      id = this.readBlob(path).then(gitBlobId);
      this.blobIds.set(path, id);
    }
    return id;
  }

  private async readBlob(path: string): Promise<Buffer> {
    const full = join(this.root, path);
    const st = await lstat(full).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new InputError(`Cannot read ${full} (${code}) to compute the cache key; check that the file is readable`, { file: full }, { cause: err });
    });
    if (st.isSymbolicLink()) return Buffer.from(await readlink(full, { encoding: 'buffer' }));
    // Checks that no folder on the way is a link leading out of the repository.
    const real = (await resolveInside(this.root, full)) ?? full;
    return readRegularFile(real, { maxBytes: MAX_KEY_FILE_BYTES, nofollow: true });
  }
}

/** GitLab's digest_from_hashes: SHA1 of the sorted unique ids joined by '-'; null without ids. */
async function digestOf(ids: string[]): Promise<string | null> {
  if (ids.length === 0) return null;
  return sha1Hex([[...new Set(ids)].sort().join('-')]);
}

/** git's object id of a blob: sha1 of "blob <size>\0" and the content. */
export function gitBlobId(content: Buffer): Promise<string> {
  return sha1Hex([`blob ${content.length}\0`, content]);
}

/** node:crypto is loaded when a cache key needs it, not when berth starts. */
async function sha1Hex(parts: (string | Buffer)[]): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** GitLab's search_files_by_wildcard_path as a JavaScript RegExp (anchored). */
export function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[\\^$.|?*+()[\]{}/-]/g, (c) => `\\${c}`);
  const source = escaped.replace(/\\\*\\\*/g, '.*?').replace(/\\\*/g, '[^/]*?');
  return new RegExp(`^${source}$`, 's');
}
