/**
 * The changed files of `berth exec`'s local pipeline, for `rules:changes` and
 * `only/except:changes`: the files that differ between HEAD and its merge base with a base ref
 * (`git diff --name-only <merge-base> HEAD`), plus the uncommitted changes of the working tree
 * (staged, unstaged, and untracked files that are not ignored). Renames count as the old and the
 * new path (as GitLab's diff paths); deleted files count. Paths are relative to the repository's
 * top level, with '/'.
 *
 * The base is, in order: the ref asked for (`--changes-base`, or a rule's `compare_to`), else
 * the default branch: `origin/HEAD` (the remote's default branch) when set, else `main`, else
 * `master`. On the default branch itself the base is the parent of HEAD, as a push pipeline on
 * the default branch compares with the commit before the push (the first commit: every clause holds). Without a base (no such branch, not a git repository, no commit yet, or histories
 * without a common commit) there is nothing to compare: as GitLab does for a new branch or a
 * tag, every `changes` clause then holds, and `why` says so.
 */
import { BerthError } from '../../shared/errors.js';
import { runHostGit } from './host-git.js';

export type ChangedFiles =
  | { kind: 'diff'; base: string; files: string[] }
  | { kind: 'no-base'; why: string }
  /** The ref asked for names no commit (the caller reports it: an input error). */
  | { kind: 'unknown-ref' };

/** The default branch candidates, in order. */
export const DEFAULT_BASE_CANDIDATES: readonly string[] = ['refs/remotes/origin/HEAD', 'refs/heads/main', 'refs/heads/master'];

/** The changed files against `ref` (a branch, tag or commit), or against the default branch when `ref` is undefined. */
export async function listChangedFiles(root: string, isRepo: boolean, ref: string | undefined): Promise<ChangedFiles> {
  if (!isRepo) return { kind: 'no-base', why: 'not a git repository' };
  // HEAD, its first parent and the base in two git processes run side by side (one per question
  // used to be asked in turn: up to five before the diff).
  const [commits, named] = await Promise.all([
    git(root, ['rev-list', '--first-parent', '--max-count=2', 'HEAD', '--'], true),
    ref !== undefined ? (ref.startsWith('-') ? null : resolveCommit(root, ref)) : defaultBase(root),
  ]);
  const [head, parent] = commits.split('\n').filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  if (!head) return { kind: 'no-base', why: 'the repository has no commit yet' };
  let base: { name: string; sha: string } | null;
  if (ref !== undefined) {
    if (typeof named !== 'string') return { kind: 'unknown-ref' };
    base = { name: ref, sha: named };
  } else {
    base = named as { name: string; sha: string } | null;
    if (!base) return { kind: 'no-base', why: 'no default branch to compare with (no origin/HEAD, main or master; choose one with --changes-base <ref>)' };
  }
  // The merge base of a commit with itself is that commit: no git needed.
  let mergeBase = base.sha === head ? head : (await git(root, ['merge-base', base.sha, head], true)).trim();
  if (!/^[0-9a-f]{40,64}$/.test(mergeBase)) return { kind: 'no-base', why: `HEAD and ${base.name} have no commit in common (a shallow clone? git fetch --unshallow)` };
  if (ref === undefined && mergeBase === head) {
    // On the default branch (or behind it): GitLab's push pipeline compares with the commit
    // before the push; locally, the last commit is what was pushed last.
    if (!parent) return { kind: 'no-base', why: 'HEAD is the first commit of the default branch (as for a first push)' };
    mergeBase = parent;
    base = { name: 'HEAD~1', sha: parent };
  }
  const diff = ['diff', '--name-only', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', '--ignore-submodules=none'];
  const outputs = await Promise.all([
    git(root, [...diff, mergeBase, head, '--']),
    git(root, [...diff, '--cached', head, '--']),
    git(root, [...diff, '--']),
    git(root, ['ls-files', '-z', '--others', '--exclude-standard', '--full-name']),
  ]);
  const files = new Set<string>();
  for (const out of outputs) for (const path of out.split('\0')) if (path) files.add(path);
  return { kind: 'diff', base: base.name, files: [...files].sort() };
}

/** The first of DEFAULT_BASE_CANDIDATES that exists, with its commit (one `git for-each-ref`), or null. */
async function defaultBase(root: string): Promise<{ name: string; sha: string } | null> {
  // %(*objectname) is the commit an annotated tag points to; empty for a branch.
  const out = await git(root, ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(*objectname)', ...DEFAULT_BASE_CANDIDATES], true);
  const found = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, sha, peeled] = line.split('\0');
    const commit = peeled || sha;
    if (name && commit && /^[0-9a-f]{40,64}$/.test(commit)) found.set(name, commit);
  }
  for (const candidate of DEFAULT_BASE_CANDIDATES) {
    const sha = found.get(candidate);
    if (sha) return { name: candidate.replace(/^refs\/(heads|remotes)\//, ''), sha };
  }
  return null;
}

/** The commit `ref` names, or null. */
async function resolveCommit(root: string, ref: string): Promise<string | null> {
  const out = await git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], true);
  const sha = out.trim();
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
}

/** git's stdout; '' on failure when `quiet`, else a typed error. */
async function git(root: string, args: string[], quiet = false): Promise<string> {
  try {
    return await runHostGit(root, args, { maxBuffer: 512 * 1024 * 1024 });
  } catch (err) {
    if (quiet && !(err instanceof BerthError)) return '';
    if (err instanceof BerthError) throw err;
    throw new BerthError('git_error', `Failed to list the changed files of ${root} with "git ${args[0]}": ${(err as Error).message}; check the repository with git status`, { cause: err });
  }
}
