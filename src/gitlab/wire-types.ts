/**
 * GitLab's runner API on the wire: snake_case JSON exactly as GitLab sends and expects it.
 * This is the only file of berth with snake_case names; everything else uses the camelCase
 * models (JobSpec, RunnerCredentials, ...).
 *
 * - `jobPayloadSchema`: the `POST /jobs/request` 201 body (gitlab-runner common/spec/spec.go).
 *   Tolerant the way Go's decoder is: unknown fields are ignored, `null` becomes the zero value,
 *   `[null]` entries (the legacy `"cache": [null]`) are dropped, and a string `entrypoint` or
 *   `command` (GitLab's own spec fixtures) is accepted. Wrong types are errors.
 * - Request bodies (`*Body`) and response schemas for register/verify/reset/request/update.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Zero-value helpers: absent or null → the Go zero value.

const str = () => z.string().nullish().transform((v) => v ?? '');
const bool = () => z.boolean().nullish().transform((v) => v ?? false);
const int = () => z.number().int().nullish().transform((v) => v ?? 0);
const strList = () => z.array(z.string().nullable()).nullish().transform((v) => (v ?? []).filter((s): s is string => s !== null));

/** An array whose `null` entries are dropped; `null` or absent is an empty array. */
function list<T extends z.ZodType>(item: T) {
  return z
    .array(item.nullable())
    .nullish()
    .transform((v) => (v ?? []).filter((x): x is NonNullable<typeof x> => x !== null && x !== undefined));
}

/** `["a","b"]`, or a string tolerated as a whitespace-separated list; `null` stays `null`. */
const argv = () =>
  z
    .union([z.array(z.string()), z.string()])
    .nullish()
    .transform((v): string[] | null => {
      if (v === null || v === undefined) return null;
      if (typeof v !== 'string') return v;
      // A string entrypoint "" means "clear the image's entrypoint", as [""] does.
      return v.trim() === '' ? [''] : v.trim().split(/\s+/);
    });

// ---------------------------------------------------------------------------------------------
// Job payload (201 body of POST /api/v4/jobs/request)

export const wireVariableSchema = z.object({
  key: z.string(),
  value: str(),
  public: bool(),
  masked: bool(),
  file: bool(),
  raw: bool(),
});

export const wireStepSchema = z.object({
  name: z.string(),
  script: strList(),
  timeout: int(),
  // Go's StepWhen is a plain string (common/spec/spec.go): a value it does not know is no reason to refuse the job.
  when: z
    .string()
    .nullish()
    .transform((v) => (v === 'on_failure' || v === 'always' ? v : 'on_success')),
  allow_failure: bool(),
});

/**
 * `executor_opts`: gitlab-runner knows `docker` (`platform`, `user`) and `kubernetes` (`user`)
 * (common/spec/spec.go supportedExecutorOptions). Other keys are not a wrong payload: they are
 * collected in `unsupported` (`section` → keys) and the job then fails as gitlab-runner fails it.
 */
const USER = z.union([z.string(), z.number().int()]).nullish();
const DOCKER_OPTIONS = ['platform', 'user'] as const;
const KUBERNETES_OPTIONS = ['user'] as const;
const EXECUTOR_OPTIONS = ['docker', 'kubernetes'] as const;

export interface UnsupportedOptions {
  /** gitlab-runner's name of the place: `executor_opts`, `docker executor`, `kubernetes executor`. */
  section: string;
  keys: string[];
  supported: readonly string[];
}

function unknownKeys(v: object, known: readonly string[]): string[] {
  return Object.keys(v).filter((k) => !known.includes(k)).sort();
}

const wireDockerOptsSchema = z.looseObject({ platform: z.string().nullish(), user: USER });
const wireKubernetesOptsSchema = z.looseObject({ user: USER });

const executorOpts = () =>
  z
    .looseObject({ docker: wireDockerOptsSchema.nullish(), kubernetes: wireKubernetesOptsSchema.nullish() })
    .nullish()
    .transform((v) => {
      const unsupported: UnsupportedOptions[] = [];
      const add = (section: string, keys: string[], supported: readonly string[]): void => {
        if (keys.length) unsupported.push({ section, keys, supported });
      };
      if (v) add('executor_opts', unknownKeys(v, EXECUTOR_OPTIONS), EXECUTOR_OPTIONS);
      if (v?.docker) add('docker executor', unknownKeys(v.docker, DOCKER_OPTIONS), DOCKER_OPTIONS);
      if (v?.kubernetes) add('kubernetes executor', unknownKeys(v.kubernetes, KUBERNETES_OPTIONS), KUBERNETES_OPTIONS);
      return { docker: v?.docker ? { platform: v.docker.platform, user: v.docker.user } : null, unsupported };
    });

/** `pull_policy`: a list, a single string, or null. */
const pullPolicy = () =>
  z
    .union([z.array(z.string()), z.string()])
    .nullish()
    .transform((v) => (v === null || v === undefined ? [] : typeof v === 'string' ? [v] : v));

export const wireImageSchema = z.object({
  name: str(),
  alias: str(),
  entrypoint: argv(),
  command: argv(),
  executor_opts: executorOpts(),
  pull_policy: pullPolicy(),
});

export const wireServiceSchema = wireImageSchema.extend({
  variables: list(z.object({ key: z.string(), value: str() })),
});

export const wireCredentialSchema = z.object({
  type: str(),
  url: str(),
  username: str(),
  password: str(),
});

export const wireArtifactSchema = z.object({
  name: str(),
  untracked: bool(),
  paths: strList(),
  exclude: strList(),
  when: str(),
  artifact_type: str(),
  artifact_format: str(),
  expire_in: str(),
});

export const wireCacheSchema = z.object({
  key: str(),
  untracked: bool(),
  policy: str(),
  paths: strList(),
  when: str(),
  fallback_keys: strList(),
});

export const wireDependencySchema = z.object({
  id: int(),
  name: str(),
  token: str(),
  artifacts_file: z
    .object({ filename: str(), size: int() })
    .nullish()
    .transform((v) => v ?? { filename: '', size: 0 }),
});

export const jobPayloadSchema = z.object({
  id: z.number().int().positive(),
  token: z.string().min(1),
  allow_git_fetch: bool(),
  job_info: z
    .object({
      name: str(),
      stage: str(),
      project_id: int(),
      project_name: str(),
      project_full_path: str(),
      pipeline_id: int(),
    })
    .nullish()
    .transform((v) => v ?? { name: '', stage: '', project_id: 0, project_name: '', project_full_path: '', pipeline_id: 0 }),
  git_info: z
    .object({
      repo_url: str(),
      ref: str(),
      sha: str(),
      before_sha: str(),
      ref_type: str(),
      refspecs: strList(),
      depth: int(),
      repo_object_format: str(),
    })
    .nullish()
    .transform((v) => v ?? { repo_url: '', ref: '', sha: '', before_sha: '', ref_type: '', refspecs: [], depth: 0, repo_object_format: '' }),
  runner_info: z
    .object({ timeout: int(), uuid: str() })
    .nullish()
    .transform((v) => v ?? { timeout: 0, uuid: '' }),
  variables: list(wireVariableSchema),
  steps: z.array(wireStepSchema),
  hooks: list(z.object({ name: str(), script: strList() })),
  image: wireImageSchema.nullish().transform((v) => v ?? null),
  services: list(wireServiceSchema),
  artifacts: list(wireArtifactSchema),
  cache: list(wireCacheSchema),
  credentials: list(wireCredentialSchema),
  dependencies: list(wireDependencySchema),
  features: z
    .object({
      trace_sections: bool(),
      token_mask_prefixes: strList(),
      failure_reasons: strList(),
    })
    .nullish()
    .transform((v) => v ?? { trace_sections: false, token_mask_prefixes: [], failure_reasons: [] }),
});

/** The job payload after zero-value normalisation (snake_case, no nulls except `image`). */
export type WireJobPayload = z.output<typeof jobPayloadSchema>;

// ---------------------------------------------------------------------------------------------
// Request bodies

/** Every boolean is always serialized (gitlab-runner common/network.go FeaturesInfo). */
export interface WireFeatures {
  variables: boolean;
  image: boolean;
  services: boolean;
  artifacts: boolean;
  cache: boolean;
  fallback_cache_keys: boolean;
  shared: boolean;
  upload_multiple_artifacts: boolean;
  upload_raw_artifacts: boolean;
  session: boolean;
  terminal: boolean;
  refspecs: boolean;
  masking: boolean;
  proxy: boolean;
  raw_variables: boolean;
  artifacts_exclude: boolean;
  multi_build_steps: boolean;
  trace_reset: boolean;
  trace_checksum: boolean;
  trace_size: boolean;
  vault_secrets: boolean;
  cancelable: boolean;
  return_exit_code: boolean;
  service_variables: boolean;
  service_multiple_aliases: boolean;
  image_executor_opts: boolean;
  service_executor_opts: boolean;
  cancel_gracefully: boolean;
  native_steps_integration: boolean;
  two_phase_job_commit: boolean;
  job_inputs: boolean;
}

export interface WireRunnerInfo {
  name?: string;
  version?: string;
  revision?: string;
  platform?: string;
  architecture?: string;
  executor?: string;
  shell?: string;
  features: WireFeatures;
  config?: { gpus: string };
  labels?: Record<string, string>;
}

export interface WireRegisterRunnerBody {
  token: string;
  description?: string;
  maintenance_note?: string;
  tag_list?: string;
  run_untagged: boolean;
  locked: boolean;
  access_level?: string;
  maximum_timeout?: number;
  paused: boolean;
  info: WireRunnerInfo;
}

export interface WireJobRequestBody {
  info: WireRunnerInfo;
  token: string;
  system_id?: string;
  last_update?: string;
  session?: { url: string; certificate: string; authorization: string };
}

export interface WireUpdateJobBody {
  info: WireRunnerInfo;
  token: string;
  state: 'running' | 'success' | 'failed';
  failure_reason?: string;
  /** Deprecated duplicate of output.checksum, still sent by gitlab-runner. */
  checksum?: string;
  output: { checksum?: string; bytesize?: number };
  exit_code?: number;
}

// ---------------------------------------------------------------------------------------------
// Response bodies

export const registerResponseSchema = z.object({
  id: int(),
  token: z.string(),
  token_expires_at: z.string().nullish().transform((v) => v ?? ''),
});

export const resetTokenResponseSchema = z.object({
  token: z.string(),
  token_expires_at: z.string().nullish().transform((v) => v ?? ''),
});
