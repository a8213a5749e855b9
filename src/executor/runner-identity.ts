/**
 * Who runs the job: the runner's identity and the `[[runners]]` settings the executor needs.
 * `berth exec` uses a local identity; `berth run` one per `[[runners]]` entry.
 */
export interface RunnerIdentity {
  /** [[runners]] name (or "berth-exec"). */
  name: string;
  /** First 9 characters of the runner token after its prefix; "exec" locally. Not a secret. */
  shortToken: string;
  /** s_<12 hex> or r_<12>: scopes the leftover sweeper to this host. */
  systemId: string;
  /** GitLab runner id, 0 locally. */
  runnerId: number;
  /** `builds_dir`, default /builds. */
  buildsDir: string;
  /** `environment = ["K=V"]`: variables placed before the job's own. */
  environment: string[];
  /**
   * `pre_get_sources_script` / `post_get_sources_script`. berth fetches sources on its host, so the
   * pre script cannot run before the fetch as in gitlab-runner's helper container (a warning says
   * so); the post script runs in the build container, in the project folder, before the job script.
   */
  preGetSourcesScript: string;
  postGetSourcesScript: string;
  /** `pre_build_script` / `post_build_script`, run in the build container around the job script. */
  preBuildScript: string;
  postBuildScript: string;
  /** `debug_trace_disabled`: CI_DEBUG_TRACE is ignored (no shell tracing of the job's commands). */
  debugTraceDisabled: boolean;
  /** `prepare_timeout` in ms (0: none, the job timeout bounds the prepare). */
  prepareTimeoutMs?: number;
  /** `feature_flags`. */
  featureFlags: Record<string, boolean>;
  /** Version string shown in the job log header. */
  version: string;
}
