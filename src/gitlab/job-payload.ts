/**
 * GitLab's job payload (the 201 body of POST /jobs/request) → JobSpec.
 *
 *   parseJobPayload(bodyText)  JSON text → JobSpec
 *   toJobSpec(json)            parsed JSON value → JobSpec
 *   readJobPayload(json)       parsed JSON value → WireJobPayload (snake_case, nulls normalised),
 *                              for the parts JobSpec does not carry (artifacts, cache, dependencies)
 *
 * All three throw JobPayloadError for a payload berth cannot run. The error carries the job's
 * `id` and `token` whenever those two could be read, so that the caller can still report the
 * job as failed (malformed payloads: see docs/testing.md); a body that is not JSON, or has no usable id/token, carries
 * neither. The token is a secret: it is never part of the message.
 */
import type { z } from 'zod';
import { BerthError } from '../shared/errors.js';
import {
  DEFAULT_JOB_TIMEOUT_SECONDS,
  type FileWhen,
  type ImageSpec,
  type JobSpec,
  type ServiceSpec,
} from '../job/job-spec.js';
import type { PullPolicy } from '../shared/pull-policy.js';
import { jobPayloadSchema, type WireJobPayload } from './wire-types.js';

export class JobPayloadError extends BerthError {
  /** The job id, when it could be read. */
  readonly jobId: number | null;
  /** The job token, when it could be read. A secret: never log it. */
  readonly jobToken: string | null;
  /** The exit code the failed job is reported with (gitlab-runner's 3 for unsupported options), or null. */
  readonly exitCode: number | null;

  constructor(message: string, job: { id: number; token: string } | null, options?: { cause?: unknown; exitCode?: number }) {
    super('job_payload_invalid', message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.jobId = job?.id ?? null;
    this.jobToken = job?.token ?? null;
    this.exitCode = options?.exitCode ?? null;
  }
}

/** gitlab-runner's exit code for a job with options its executor does not support (common/trace.go). */
export const EXIT_CODE_UNSUPPORTED_OPTIONS = 3;

export function readJobPayload(json: unknown): WireJobPayload {
  const res = jobPayloadSchema.safeParse(json);
  if (res.success) return res.data;
  const job = readIdAndToken(json);
  const where = job ? `job ${job.id}` : 'a job';
  throw new JobPayloadError(`The payload GitLab sent for ${where} is invalid: ${describeIssues(res.error.issues)}`, job);
}

function readIdAndToken(json: unknown): { id: number; token: string } | null {
  if (typeof json !== 'object' || json === null) return null;
  const { id, token } = json as { id?: unknown; token?: unknown };
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return null;
  if (typeof token !== 'string' || token === '') return null;
  return { id, token };
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  return `${shown.join('; ')}${more}`;
}

const PULL_POLICIES: readonly string[] = ['always', 'if-not-present', 'never'] satisfies PullPolicy[];

/** A validated payload → JobSpec (throws JobPayloadError for semantic problems). */
export function jobSpecFromWire(p: WireJobPayload): JobSpec {
  const job = { id: p.id, token: p.token };
  if (p.steps.length === 0) {
    throw new JobPayloadError(`The payload GitLab sent for job ${p.id} has no steps to run`, job);
  }
  const pipelineVar = p.variables.find((v) => v.key === 'CI_PIPELINE_ID')?.value;
  return {
    id: p.id,
    token: p.token,
    allowGitFetch: p.allow_git_fetch,
    jobInfo: {
      name: p.job_info.name,
      stage: p.job_info.stage,
      projectId: p.job_info.project_id,
      projectName: p.job_info.project_name,
      projectFullPath: p.job_info.project_full_path || pathFromRepoUrl(p.git_info.repo_url),
      pipelineId: p.job_info.pipeline_id || Number(pipelineVar) || 0,
    },
    gitInfo: {
      repoUrl: p.git_info.repo_url,
      ref: p.git_info.ref,
      sha: p.git_info.sha,
      beforeSha: p.git_info.before_sha,
      refType: p.git_info.ref_type === 'branch' || p.git_info.ref_type === 'tag' ? p.git_info.ref_type : '',
      refspecs: p.git_info.refspecs,
      depth: p.git_info.depth,
      ...(p.git_info.repo_object_format ? { objectFormat: p.git_info.repo_object_format } : {}),
    },
    timeoutSeconds: p.runner_info.timeout > 0 ? p.runner_info.timeout : DEFAULT_JOB_TIMEOUT_SECONDS,
    variables: p.variables.map((v) => ({ key: v.key, value: v.value, public: v.public, masked: v.masked, file: v.file, raw: v.raw })),
    steps: p.steps.map((s) => ({
      name: s.name,
      script: s.script,
      timeoutSeconds: s.timeout,
      when: s.when,
      allowFailure: s.allow_failure,
    })),
    image: p.image && p.image.name ? imageSpec(p.image, job, 'image') : null,
    services: p.services.filter((s) => s.name).map((s, i) => serviceSpec(s, job, i)),
    credentials: p.credentials
      .filter((c) => c.type === 'registry')
      .map((c) => ({ type: 'registry' as const, url: c.url, username: c.username, password: c.password })),
    features: {
      traceSections: p.features.trace_sections,
      tokenMaskPrefixes: p.features.token_mask_prefixes,
      failureReasons: p.features.failure_reasons,
    },
    sources: { kind: 'git' },
    artifacts: p.artifacts.map((a) => ({
      name: a.name,
      untracked: a.untracked,
      paths: a.paths,
      exclude: a.exclude,
      when: fileWhen(a.when),
      artifactType: a.artifact_type,
      artifactFormat: a.artifact_format,
      expireIn: a.expire_in,
    })),
    cache: p.cache.map((c) => ({
      key: c.key,
      untracked: c.untracked,
      policy: c.policy,
      paths: c.paths,
      when: fileWhen(c.when),
      fallbackKeys: c.fallback_keys,
    })),
    dependencies: p.dependencies.map((d) => ({
      id: d.id,
      name: d.name,
      token: d.token,
      artifactsFile: d.artifacts_file.filename ? { filename: d.artifacts_file.filename, size: d.artifacts_file.size } : null,
    })),
    ...(p.hooks.some((h) => h.script.length > 0) ? { hooks: p.hooks.filter((h) => h.script.length > 0).map((h) => ({ name: h.name, script: h.script })) } : {}),
  };
}

/** `when` of an artifact or cache entry: empty is on_success, an unknown value never (gitlab-runner spec.go; see FileWhen). */
function fileWhen(value: string): FileWhen {
  if (value === '' || value === 'on_success') return 'on_success';
  if (value === 'on_failure' || value === 'always') return value;
  return 'never';
}

type WireImage = NonNullable<WireJobPayload['image']>;

function imageSpec(img: WireImage, job: { id: number; token: string }, where: string): ImageSpec {
  const spec: ImageSpec = { name: img.name };
  if (img.entrypoint !== null) spec.entrypoint = img.entrypoint;
  if (img.command !== null) spec.command = img.command;
  if (img.pull_policy.length > 0) {
    const bad = img.pull_policy.find((pp) => !PULL_POLICIES.includes(pp));
    if (bad !== undefined) {
      throw new JobPayloadError(
        `The payload GitLab sent for job ${job.id} has an unsupported pull_policy "${bad}" in ${where}; use always, if-not-present or never`,
        job,
      );
    }
    spec.pullPolicy = img.pull_policy as PullPolicy[];
  }
  const unsupported = img.executor_opts.unsupported;
  if (unsupported.length > 0) {
    // gitlab-runner's wording (common/spec/spec.go UnsuportedExecutorOptionsError); it names
    // the section "image" for services too.
    const text = unsupported.map((u) => `Unsupported "image" options [${u.keys.join(' ')}] for "${u.section}"; supported options are [${u.supported.join(' ')}]`);
    throw new JobPayloadError(`${text.join('\n')} (in ${where} of job ${job.id})`, job, { exitCode: EXIT_CODE_UNSUPPORTED_OPTIONS });
  }
  const docker = img.executor_opts.docker;
  if (docker) {
    spec.docker = {};
    if (docker.platform) spec.docker.platform = docker.platform;
    if (docker.user !== null && docker.user !== undefined && docker.user !== '') spec.docker.user = String(docker.user);
  }
  return spec;
}

function serviceSpec(s: WireJobPayload['services'][number], job: { id: number; token: string }, index: number): ServiceSpec {
  return {
    ...imageSpec(s, job, `services[${index}]`),
    aliases: s.alias.split(/[\s,]+/).filter((a) => a !== ''),
    variables: s.variables.map((v) => ({ key: v.key, value: v.value })),
  };
}

/** `http://host/group/sub/project.git` → `group/sub/project`; empty when the URL does not parse. */
function pathFromRepoUrl(repoUrl: string): string {
  try {
    return new URL(repoUrl).pathname.replace(/^\/+/, '').replace(/\.git$/, '').replace(/\/+$/, '');
  } catch {
    return '';
  }
}
