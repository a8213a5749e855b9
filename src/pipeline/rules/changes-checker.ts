/**
 * `rules:changes` and `only/except:changes` against the changed files of the local pipeline
 * (project/changed-files.ts): a clause holds when a changed path matches one of its globs
 * (Ruby's fnmatch, as GitLab's Clause::Changes). Variables are expanded in the globs and in
 * `compare_to`. The changed files are listed once per base ref, and only when a clause asks.
 * Without a base to compare with, every clause holds (as GitLab for a new branch).
 */
import { listChangedFiles, type ChangedFiles } from '../project/changed-files.js';
import { InputError } from '../../shared/errors.js';
import { configError, type Where } from '../load/source-positions.js';
import type { VariableLookup } from './expression-evaluator.js';
import { rubyFnmatch } from './ruby-fnmatch.js';

export interface ChangesClause {
  paths: string[];
  compareTo?: string;
  /** Where the clause is written, for errors. */
  where?: Where;
}

export type ChangesOutcome =
  | { holds: true; path: string }
  | { holds: false }
  /** No base to compare with: counts as changed. */
  | { holds: true; noBase: string };

const VAR = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export class ChangesChecker {
  private readonly byRef = new Map<string, Promise<ChangedFiles>>();

  /** `base`: `--changes-base`; undefined: the default branch. */
  constructor(
    private readonly root: string,
    private readonly isRepo: boolean,
    private readonly base: string | undefined,
  ) {}

  /** The changed files against `compareTo`, else the pipeline's base; listed once per ref. */
  changedFiles(compareTo?: string): Promise<ChangedFiles> {
    const key = compareTo === undefined ? '\0base' : compareTo;
    let list = this.byRef.get(key);
    if (!list) {
      list = listChangedFiles(this.root, this.isRepo, compareTo ?? this.base);
      this.byRef.set(key, list);
    }
    return list;
  }

  /**
   * `owner`: the job (or `workflow`, `include`) the clause belongs to, for errors. As GitLab, a
   * tag pipeline and a pipeline whose source is not a push or a merge request have no diff
   * (changes hold) unless the clause has `compare_to` or berth was given `--changes-base`.
   */
  async check(clause: ChangesClause, lookup: VariableLookup, owner: string): Promise<ChangesOutcome> {
    if (clause.compareTo === undefined && this.base === undefined) {
      const source = lookup('CI_PIPELINE_SOURCE') ?? 'push';
      if ((lookup('CI_COMMIT_TAG') ?? '') !== '') return { holds: true, noBase: 'a tag pipeline has no diff, as in GitLab (use compare_to or --changes-base to compare)' };
      if (source !== 'push' && source !== 'merge_request_event') {
        return { holds: true, noBase: `a ${source} pipeline has no diff, as in GitLab (use compare_to or --changes-base to compare)` };
      }
    }
    const compareTo = clause.compareTo === undefined ? undefined : expandExisting(clause.compareTo, lookup);
    const changed = await this.changedFiles(compareTo);
    if (changed.kind === 'unknown-ref') {
      if (clause.compareTo === undefined) {
        throw new InputError(
          `--changes-base: "${this.base}" is not a branch, tag or commit of the repository ${this.root}; name an existing ref (git branch -a, git tag -l)`,
          { key: '--changes-base' },
        );
      }
      // The ref as written: an expanded variable may hold a secret.
      throw configError(
        clause.where,
        `${owner}: rules:changes:compare_to "${clause.compareTo}" is not a branch, tag or commit of the repository ${this.root}; name an existing ref (git branch -a, git tag -l)`,
        'rules',
      );
    }
    if (changed.kind === 'no-base') return { holds: true, noBase: changed.why };
    const matchers = [...new Set(clause.paths.map((p) => expandExisting(p, lookup)))].map(rubyFnmatch);
    for (const path of changed.files) {
      if (matchers.some((m) => m(path))) return { holds: true, path };
    }
    return { holds: false };
  }
}

/** `$VAR` / `${VAR}` replaced when the variable is defined; others kept (GitLab's expand_existing). */
function expandExisting(text: string, lookup: VariableLookup): string {
  if (!text.includes('$')) return text;
  return text.replace(VAR, (m, braced: string | undefined, bare: string | undefined) => lookup((braced ?? bare)!) ?? m);
}
