/** What `berth exec` was asked to do: the command line, parsed and checked by the CLI. */
import type { PullPolicy } from '../shared/pull-policy.js';
import type { ExternalIncludeOptions } from '../pipeline/index.js';
import type { EngineConnection } from '../engine/engine-connection.js';

export interface ExecOptions {
  jobs: string[];
  cwd: string;
  file?: string;
  /** `--variable` and `--public-variable` values. */
  variables: Record<string, string>;
  /** Keys given with `--public-variable`: these also go into the container environment. */
  publicVariables: string[];
  needs: boolean;
  pullPolicy?: PullPolicy;
  report?: string;
  color: boolean;
  list: boolean;
  /** With `list`: print the planned pipeline as JSON (format version 1). */
  json: boolean;
  concurrency: number;
  /** Prepare the next jobs' build containers while the jobs before them run (on unless `--no-prewarm`). */
  prewarm?: boolean;
  dockerImage?: string;
  /** `--output-limit`: KiB of one job's log (as gitlab-runner's output_limit). */
  outputLimitKiB: number;
  /** Ignore CI_DEBUG_TRACE (as `debug_trace_disabled` of `[[runners]]`). */
  debugTraceDisabled: boolean;
  /** `--changes-base`: the ref changes clauses compare with; undefined: the default branch. */
  changesBase?: string;
  /** `--include-cache`, `--include-ca`, `--include-project` and the token for include:project/component. */
  includes?: ExternalIncludeOptions;
  /** `--docker-host`, `--docker-tls-verify`, `--docker-cert-path`; what is unset comes from DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH. */
  engine?: EngineConnection;
}
