/**
 * Labeller: the names and labels of every Docker object a job creates. The `berth.job.uid`
 * label selects one job's objects (cleanup); `berth.runner.system_id` + `berth.runner.short_token`
 * select one runner's (the leftover sweeper). gitlab-runner's labels are added too, so tools
 * made for it (clear-docker-cache) see berth's objects.
 */
import type { Labels } from '../../engine/engine-client.js';
import type { JobSpec } from '../../job/job-spec.js';
import type { RunnerIdentity } from '../runner-identity.js';

/** `wait`: a service health-check probe container (gitlab-runner's type for its wait-for-service container, executors/docker/services.go). */
export type ObjectType = 'build' | 'service' | 'wait' | 'network' | 'volume';

export const MANAGED_LABEL = 'berth.managed';
export const JOB_UID_LABEL = 'berth.job.uid';
export const SYSTEM_ID_LABEL = 'berth.runner.system_id';
export const SHORT_TOKEN_LABEL = 'berth.runner.short_token';
export const TYPE_LABEL = 'berth.type';

export class Labeller {
  readonly baseName: string;
  private readonly common: Labels;

  constructor(job: JobSpec, runner: RunnerIdentity, readonly jobUid: string, extra: Labels = {}) {
    this.baseName = dnsSafe(`berth-${runner.shortToken}-project-${job.jobInfo.projectId}-job-${job.id}-${jobUid.slice(0, 8)}`);
    this.common = {
      ...extra,
      [MANAGED_LABEL]: 'true',
      [JOB_UID_LABEL]: jobUid,
      [SYSTEM_ID_LABEL]: runner.systemId,
      [SHORT_TOKEN_LABEL]: runner.shortToken,
      'berth.runner.id': String(runner.runnerId),
      'berth.job.id': String(job.id),
      'berth.job.name': job.jobInfo.name,
      'berth.project.id': String(job.jobInfo.projectId),
      'berth.pipeline.id': String(job.jobInfo.pipelineId),
      'com.gitlab.gitlab-runner.managed': 'true',
      'com.gitlab.gitlab-runner.job.id': String(job.id),
      'com.gitlab.gitlab-runner.job.sha': job.gitInfo.sha,
      'com.gitlab.gitlab-runner.job.ref': job.gitInfo.ref,
      'com.gitlab.gitlab-runner.project.id': String(job.jobInfo.projectId),
      'com.gitlab.gitlab-runner.pipeline.id': String(job.jobInfo.pipelineId),
      'com.gitlab.gitlab-runner.runner.id': runner.shortToken,
    };
  }

  labels(type: ObjectType, more: Labels = {}): Labels {
    return { ...this.common, ...more, [TYPE_LABEL]: type, 'com.gitlab.gitlab-runner.type': type };
  }

  /** The label filter that selects exactly this job's objects. */
  get jobFilter(): string {
    return `${JOB_UID_LABEL}=${this.jobUid}`;
  }

  name(suffix: string): string {
    return dnsSafe(`${this.baseName}-${suffix}`);
  }
}

/** Docker names: [a-zA-Z0-9][a-zA-Z0-9_.-]*; kept short and readable. */
export function dnsSafe(name: string): string {
  return name
    .replace(/[^a-zA-Z0-9_.-]/g, '-')
    .replace(/^[^a-zA-Z0-9]+/, '')
    .slice(0, 200);
}
