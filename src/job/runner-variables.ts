/**
 * The variables the runner itself adds to every job (gitlab-runner common/build.go), and the
 * final, expanded variable set of a stage, in gitlab-runner's precedence (last wins):
 * runner defaults → [[runners]] environment → the job's own variables → runner internals.
 */
import { projectTempDir } from './build-dir.js';
import type { JobSpec, JobVariable } from './job-spec.js';
import { plainVariable } from './job-spec.js';
import { dedupeVariables, expandVariables } from './variables.js';

export type JobStatusForScript = 'running' | 'success' | 'failed' | 'canceled' | 'timedout';

export interface RunnerContext {
  buildsDir: string;
  projectDir: string;
  /** The build image name as used (CI_JOB_IMAGE). */
  image: string;
  runnerVersion: string;
  runnerShortToken: string;
  /** [[runners]] environment entries "K=V". */
  environment: readonly string[];
  featureFlags: Readonly<Record<string, boolean>>;
  /** Per-job network name, when one was created. */
  networkName?: string;
  concurrentId?: number;
  /**
   * When the job's first stage began (ISO 8601, UTC, seconds): CI_JOB_STARTED_AT where GitLab did
   * not send it (berth exec; an older GitLab). GitLab's own value, among the job's variables, wins.
   */
  startedAt?: string;
}

export function runnerDefaultVariables(job: JobSpec, ctx: RunnerContext): JobVariable[] {
  const v = plainVariable;
  return [
    ...Object.entries(ctx.featureFlags).map(([k, on]) => v(k, String(on))),
    v('CI_BUILDS_DIR', ctx.buildsDir),
    v('CI_PROJECT_DIR', ctx.projectDir),
    v('CI_CONCURRENT_ID', String(ctx.concurrentId ?? 0)),
    v('CI_CONCURRENT_PROJECT_ID', String(ctx.concurrentId ?? 0)),
    v('CI_SERVER', 'yes'),
    ...(ctx.startedAt ? [v('CI_JOB_STARTED_AT', ctx.startedAt)] : []),
    v('CI_JOB_TIMEOUT', String(job.timeoutSeconds)),
    v('CI_JOB_IMAGE', ctx.image),
    v('CI_RUNNER_SHORT_TOKEN', ctx.runnerShortToken),
    v('CI_RUNNER_VERSION', ctx.runnerVersion),
    v('CI_RUNNER_REVISION', 'berth'),
    v('CI_RUNNER_EXECUTABLE_ARCH', `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`),
    v('CI_DISPOSABLE_ENVIRONMENT', 'true'),
  ];
}

/** `K=V` entries; an entry without `=` defines an empty value. */
export function environmentVariables(entries: readonly string[]): JobVariable[] {
  return entries.map((e) => {
    const eq = e.indexOf('=');
    return eq < 0 ? plainVariable(e, '') : plainVariable(e.slice(0, eq), e.slice(eq + 1));
  });
}

/**
 * Every variable of a stage, deduplicated and expanded. File variables keep their content as
 * value; the caller writes them to files and exports their paths.
 */
export function stageVariables(job: JobSpec, ctx: RunnerContext, status: JobStatusForScript): JobVariable[] {
  const internal: JobVariable[] = [
    plainVariable('CI_JOB_STATUS', status),
    plainVariable('RUNNER_TEMP_PROJECT_DIR', projectTempDir(ctx.projectDir)),
  ];
  if (ctx.networkName) internal.push(plainVariable('CI_BUILD_NETWORK_NAME', ctx.networkName));
  const all = [...runnerDefaultVariables(job, ctx), ...environmentVariables(ctx.environment), ...job.variables, ...internal];
  return expandVariables(dedupeVariables(all));
}
