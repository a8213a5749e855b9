/** A `[[runners]]` entry → the identity and settings the executor needs for its jobs. */
import type { RunnerIdentity } from '../executor/runner-identity.js';
import type { RunnerConfig } from '../config/berth-config.js';
import { shortToken } from '../gitlab/short-token.js';
import { DEFAULT_BUILDS_DIR } from '../job/build-dir.js';

export function toRunnerIdentity(runner: RunnerConfig, systemId: string, version: string): RunnerIdentity {
  return {
    name: runner.name,
    shortToken: shortToken(runner.token),
    systemId,
    runnerId: runner.id,
    buildsDir: runner.buildsDir || DEFAULT_BUILDS_DIR,
    environment: [...runner.environment],
    preGetSourcesScript: runner.preGetSourcesScript,
    postGetSourcesScript: runner.postGetSourcesScript,
    preBuildScript: runner.preBuildScript,
    postBuildScript: runner.postBuildScript,
    debugTraceDisabled: runner.debugTraceDisabled,
    prepareTimeoutMs: runner.prepareTimeout,
    featureFlags: { ...runner.featureFlags },
    version,
  };
}
