/**
 * The compiled pipeline: what `berth exec` runs. Each job carries the complete JobSpec that
 * GitLab would send the runner for it.
 */
import type { JobSpec } from '../job/job-spec.js';
import type { LocalGitInfo } from './project/local-git.js';
import type { ExternalIncludeOptions } from './load/external-includes.js';

export type { ExternalIncludeOptions };

export type PipelineJobWhen = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed';

export interface Pipeline {
  /** Absolute path of the .gitlab-ci.yml. */
  file: string;
  /** Project root: the git top level, or cwd without a repository. */
  root: string;
  pipelineId: number;
  /** Declared order, with .pre first and .post last. */
  stages: string[];
  /** Jobs in the pipeline (rules/only/except applied, when:never removed), in file order. */
  jobs: PipelineJob[];
  /** Jobs of the file left out of this pipeline, and why. */
  skipped: SkippedJob[];
  /** Never fatal: unsupported keywords, unknown keys, conditions taken as true, ... */
  warnings: string[];
}

export interface SkippedJob {
  name: string;
  /** Which clause left it out (`rules: no rule matched`, `only:refs does not match ...`), or why berth cannot run it. */
  reason: string;
  stage?: string;
  parallel?: ParallelOrigin | null;
}

export interface RetryPolicy {
  /** 0..2 */
  max: number;
  /** GitLab's retry:when reasons (when not given: `always`, none when exit_codes is given). */
  when: string[];
  exitCodes: number[];
}

export interface PipelineJob {
  name: string;
  stage: string;
  when: PipelineJobWhen;
  allowFailure: boolean;
  /** allow_failure: {exit_codes}: allowFailure is then false and only these codes are allowed to fail. */
  allowFailureExitCodes: number[];
  /** null: no `needs:` (waits for all earlier stages); []: starts at once. */
  needs: { job: string; optional: boolean }[] | null;
  retry: RetryPolicy;
  /** `coverage:` (GitLab's RE2 syntax, between the slashes), or null. */
  coverage: string | null;
  /** Set on a job that `parallel:` made: the job as written, CI_NODE_INDEX, CI_NODE_TOTAL, the matrix values. */
  parallel: ParallelOrigin | null;
  spec: JobSpec;
}

export interface ParallelOrigin {
  job: string;
  index: number;
  total: number;
  /** null for `parallel: N`. */
  matrix: Record<string, string> | null;
}

export interface CompileOptions {
  cwd: string;
  /** Defaults to `<cwd>/.gitlab-ci.yml`. */
  file?: string;
  /**
   * `--variable KEY=VALUE` values: the highest precedence. Not public (as GitLab's project
   * variables): the job script gets them, the container environment (`docker inspect`) does not.
   */
  variables?: Record<string, string>;
  /** Keys of `variables` that are public (`--public-variable`): also in the container and service environment. */
  publicVariables?: readonly string[];
  /** The repository facts; read from cwd when not given. */
  git?: LocalGitInfo;
  /** false: `sources.files` stays empty (for `--list`); the exec command calls listSourceFiles itself. */
  listFiles?: boolean;
  /** CI_PIPELINE_ID; defaults to a number derived from the clock. */
  pipelineId?: number;
  /** CI_PIPELINE_IID; defaults to 1. */
  pipelineIid?: number;
  /** CI_PIPELINE_CREATED_AT; defaults to now. */
  now?: Date;
  /**
   * `--changes-base`: the ref `rules:changes` and `only/except:changes` compare with (through the
   * merge base with HEAD); defaults to origin/HEAD, else main, else master (on that branch: HEAD's parent).
   */
  changesBase?: string;
  /**
   * include:remote, include:project and include:component: the cache, CA, project checkouts and
   * token. Without it (e.g. for --list in tests) they are read with the defaults and no token.
   */
  includes?: ExternalIncludeOptions;
}
