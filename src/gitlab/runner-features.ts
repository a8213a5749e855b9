/**
 * What berth tells GitLab about itself in `info` (register, verify, jobs/request, PUT jobs/:id).
 *
 * Every `features` boolean is always serialized. The values are what berth really does today;
 * GitLab drops a job with `runner_unsupported` when it needs a feature the runner did not
 * advertise (upload_multiple_artifacts for artifacts:reports, refspecs for MR refs,
 * multi_build_steps for release:, return_exit_code for allow_failure:exit_codes, ...), which
 * is better than accepting it and silently not doing the work. Artifacts (archive and reports,
 * zip/gzip/raw, exclude), dependencies' downloads and the cache (with fallback keys) are done
 * (issue 9). Differences from gitlab-runner's docker executor: no shared builds dir,
 * session/terminal, vault secrets, native steps, job inputs, and no two-phase job commit (that
 * one needs an explicit "accept" PUT). Turn a feature on with `features` overrides once it is
 * implemented.
 */
import type { RunnerInfo } from './runner-registration-api.js';
import type { WireFeatures, WireRunnerInfo } from './wire-types.js';
import { goArch } from '../shared/go-arch.js';

export const BERTH_FEATURES: Readonly<WireFeatures> = Object.freeze({
  variables: true,
  image: true,
  services: true,
  artifacts: true,
  cache: true,
  fallback_cache_keys: true,
  shared: false,
  upload_multiple_artifacts: true,
  upload_raw_artifacts: true,
  session: false,
  terminal: false,
  refspecs: true,
  masking: true,
  proxy: false,
  raw_variables: true,
  artifacts_exclude: true,
  multi_build_steps: true,
  trace_reset: true,
  trace_checksum: true,
  trace_size: true,
  vault_secrets: false,
  cancelable: true,
  return_exit_code: true,
  service_variables: true,
  service_multiple_aliases: true,
  image_executor_opts: true,
  service_executor_opts: true,
  cancel_gracefully: true,
  native_steps_integration: false,
  two_phase_job_commit: false,
  job_inputs: false,
});

export interface RunnerInfoExtras {
  /** Overrides of BERTH_FEATURES. */
  features?: Partial<WireFeatures>;
  /** `[[runners]] labels`; omitted when empty. */
  labels?: Record<string, string>;
  /** `[runners.docker] gpus`. */
  gpus?: string;
}

/** berth's RunnerInfo for this host: name "berth", executor docker, shell bash. */
export function defaultRunnerInfo(version: string, revision = ''): RunnerInfo {
  return {
    name: 'berth',
    version,
    revision,
    platform: process.platform,
    architecture: goArch(process.arch),
    executor: 'docker',
    shell: 'bash',
  };
}

export function toWireRunnerInfo(info: RunnerInfo, extras: RunnerInfoExtras = {}): WireRunnerInfo {
  const wire: WireRunnerInfo = {
    name: info.name,
    version: info.version,
    revision: info.revision,
    platform: info.platform,
    architecture: info.architecture,
    executor: info.executor,
    shell: info.shell,
    features: { ...BERTH_FEATURES, ...extras.features },
    config: { gpus: extras.gpus ?? '' },
  };
  if (extras.labels && Object.keys(extras.labels).length > 0) wire.labels = extras.labels;
  return wire;
}
