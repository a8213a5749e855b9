/**
 * JobSpec: the one job model of berth. It is GitLab's job payload (POST /jobs/request, 201),
 * normalised to camelCase and to non-null values. Two producers build it: the
 * .gitlab-ci.yml compiler (`berth exec`) and the GitLab API client (`berth run`).
 * One consumer runs it: the executor. Nothing here knows about YAML or Docker.
 */
import type { PullPolicy } from '../shared/pull-policy.js';

export type StepName = 'script' | 'after_script' | 'release' | 'run' | (string & {});
export type StepWhen = 'on_success' | 'on_failure' | 'always';

export interface JobVariable {
  key: string;
  value: string;
  /** Public variables reach service containers and the container environment. */
  public: boolean;
  /** Masked in the job log. */
  masked: boolean;
  /** File variable: the value is written to a file and the variable holds its path. */
  file: boolean;
  /** Raw: no $VAR expansion of the value. */
  raw: boolean;
}

export interface JobStep {
  name: StepName;
  /** Command lines; before_script is already merged into the `script` step. */
  script: string[];
  timeoutSeconds: number;
  when: StepWhen;
  allowFailure: boolean;
}

export interface DockerExecutorOpts {
  platform?: string;
  user?: string;
}

export interface ImageSpec {
  name: string;
  /** Undefined or empty: the image's ENTRYPOINT is used. `[""]` clears it. */
  entrypoint?: string[];
  command?: string[];
  pullPolicy?: PullPolicy[];
  docker?: DockerExecutorOpts;
}

export interface ServiceSpec extends ImageSpec {
  /** User aliases (already split on commas and whitespace). */
  aliases: string[];
  /** Service-only variables (expanded against the job variables by the executor). */
  variables: { key: string; value: string }[];
}

export interface RegistryCredential {
  type: 'registry';
  url: string;
  username: string;
  password: string;
}

export interface GitInfo {
  repoUrl: string;
  ref: string;
  sha: string;
  beforeSha: string;
  refType: 'branch' | 'tag' | '';
  refspecs: string[];
  /** 0 = full clone. */
  depth: number;
  /** `repo_object_format`: `sha1` or `sha256` (GitLab 16.9+); absent or empty is sha1. */
  objectFormat?: string;
}

export interface JobInfo {
  name: string;
  stage: string;
  projectId: number;
  projectName: string;
  /** `namespace/project`; empty when unknown (the build dir then falls back to project-<id>). */
  projectFullPath: string;
  pipelineId: number;
}

/** Where the job's sources come from. */
export type SourceSpec =
  /** `berth exec`: the listed files of a local working tree, copied (never modified). */
  | { kind: 'local-tree'; root: string; files: string[] }
  /** `berth run`: fetched with git at gitInfo.sha, strategy from GIT_STRATEGY. */
  | { kind: 'git' }
  /** No sources (GIT_STRATEGY=none or empty). */
  | { kind: 'none' };

/**
 * `on_success`, `on_failure` or `always` (an empty payload value is on_success). `never`: a
 * payload value gitlab-runner does not know, which it reads without error and then matches
 * neither outcome (common/spec/spec.go ArtifactWhen.OnSuccess/OnFailure, CacheWhen.ShouldCache):
 * the entry is never archived or uploaded (a cache is still restored). `.gitlab-ci.yml` cannot say it.
 */
export type FileWhen = 'on_success' | 'on_failure' | 'always' | 'never';

/**
 * One entry of the payload's `artifacts[]` (gitlab-runner common/spec/spec.go Artifact):
 * the `archive` entry (artifacts:paths/untracked) and one per `artifacts:reports:<type>`.
 */
export interface ArtifactSpec {
  /** `artifacts:name` (variables not yet expanded); empty: the uploader's default name. */
  name: string;
  untracked: boolean;
  paths: string[];
  exclude: string[];
  when: FileWhen;
  /** `archive`, `junit`, `dotenv`, ... (empty is archive). */
  artifactType: string;
  /** `zip`, `gzip`, `raw` (empty: zip without sending artifact_format). */
  artifactFormat: string;
  /** `expire_in` as written (`1 week`, `never`); empty: the server's default. */
  expireIn: string;
}

/** One entry of the payload's `cache[]` (gitlab-runner common/spec/spec.go Cache). */
export interface CacheSpec {
  /** The key as GitLab sends it (variables not yet expanded; `-protected` suffix included). */
  key: string;
  untracked: boolean;
  /** `pull-push` (or empty), `pull`, `push`, or a $VARIABLE that expands to one. */
  policy: string;
  paths: string[];
  when: FileWhen;
  fallbackKeys: string[];
}

/** One entry of the payload's `dependencies[]`: a job whose `archive` artifacts this job receives. */
export interface DependencySpec {
  id: number;
  name: string;
  /** Token to download with (a secret: never logged). */
  token: string;
  /** Null when the dependency has no artifacts to download. */
  artifactsFile: { filename: string; size: number } | null;
}

export interface JobFeatures {
  traceSections: boolean;
  tokenMaskPrefixes: string[];
  failureReasons: string[];
}

export interface JobSpec {
  id: number;
  /** Job token; empty in exec mode. A secret: never logged. */
  token: string;
  allowGitFetch: boolean;
  jobInfo: JobInfo;
  gitInfo: GitInfo;
  /** Job timeout in seconds (runner_info.timeout; <= 0 becomes 7200). */
  timeoutSeconds: number;
  variables: JobVariable[];
  steps: JobStep[];
  image: ImageSpec | null;
  services: ServiceSpec[];
  credentials: RegistryCredential[];
  features: JobFeatures;
  sources: SourceSpec;
  artifacts: ArtifactSpec[];
  cache: CacheSpec[];
  dependencies: DependencySpec[];
  /** `hooks` of the payload (`hooks:pre_get_sources_script`); absent: none. */
  hooks?: JobHook[];
}

/** A script hook GitLab sends with the job (`{ name: "pre_get_sources_script", script: [...] }`). */
export interface JobHook {
  name: string;
  script: string[];
}

export const DEFAULT_JOB_TIMEOUT_SECONDS = 7200;

/** A public, unmasked, plain variable. */
export function plainVariable(key: string, value: string): JobVariable {
  return { key, value, public: true, masked: false, file: false, raw: false };
}
