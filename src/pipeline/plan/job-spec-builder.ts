/**
 * Builds the JobSpec GitLab would send the runner for one job of a local pipeline.
 */
import type { CacheSpec, DependencySpec, JobSpec, JobStep, JobVariable, SourceSpec } from '../../job/job-spec.js';
import { artifactSpecs } from './artifact-specs.js';
import type { JobConfig } from '../keywords/job-config.js';
import type { LocalGitInfo } from '../project/local-git.js';
import type { PipelineMeta, ProjectInfo } from '../project/predefined-variables.js';

/** GitLab's default project timeout: 60 minutes. */
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 3600;

export interface JobSpecInput {
  id: number;
  job: JobConfig;
  /** In precedence order; later definitions of a key win. */
  variables: JobVariable[];
  project: ProjectInfo;
  git: LocalGitInfo;
  meta: PipelineMeta;
  sources: SourceSpec;
  /** The job's `cache[]` (keys computed: see cache-specs.ts). */
  cache: CacheSpec[];
  /** The jobs whose artifacts this job receives (see job-dependencies.ts). */
  dependencies: DependencySpec[];
}

export function buildJobSpec(input: JobSpecInput): JobSpec {
  const { job, git, project } = input;
  const timeoutSeconds = job.timeoutSeconds ?? DEFAULT_EXEC_TIMEOUT_SECONDS;
  const steps: JobStep[] = [
    { name: 'script', script: [...job.beforeScript, ...job.script], timeoutSeconds, when: 'on_success', allowFailure: false },
  ];
  if (job.afterScript.length > 0) {
    steps.push({ name: 'after_script', script: job.afterScript, timeoutSeconds, when: 'always', allowFailure: true });
  }
  return {
    id: input.id,
    token: '',
    allowGitFetch: false,
    jobInfo: {
      name: job.name,
      stage: job.stage,
      projectId: project.id,
      projectName: project.name,
      projectFullPath: project.path,
      pipelineId: input.meta.id,
    },
    gitInfo: {
      repoUrl: project.repositoryUrl,
      ref: git.ref,
      sha: git.sha,
      beforeSha: '0'.repeat(40),
      refType: git.refType,
      refspecs: [],
      depth: 0,
    },
    timeoutSeconds,
    variables: keepLast(input.variables),
    steps,
    image: job.image,
    services: job.services,
    credentials: [],
    features: { traceSections: true, tokenMaskPrefixes: [], failureReasons: [] },
    sources: input.sources,
    artifacts: artifactSpecs(job.artifacts),
    cache: input.cache,
    dependencies: input.dependencies,
  };
}

/** Drops earlier definitions of a key, so that each key appears once, where it last was. */
export function keepLast(vars: readonly JobVariable[]): JobVariable[] {
  const last = new Map<string, number>();
  vars.forEach((v, i) => last.set(v.key, i));
  return vars.filter((v, i) => last.get(v.key) === i);
}
