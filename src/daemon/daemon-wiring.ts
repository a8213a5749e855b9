/**
 * The daemon's dependencies, built once per process and shared by its workers: one engine
 * client per distinct `[runners.docker]` connection, one GitLab client per CA file (with the
 * API metrics), one finder of berth's own container, and the git cache next to config.toml.
 * Tests inject the engine and the executor.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunnerConfig } from '../config/berth-config.js';
import { DockerodeEngine } from '../engine/dockerode-engine.js';
import type { EngineClient, Labels } from '../engine/engine-client.js';
import type { DockerSettings } from '../executor/docker/docker-settings.js';
import { OwnContainerFinder } from '../executor/docker/own-container.js';
import { GitLabClient } from '../gitlab/gitlab-client.js';
import { defaultRunnerInfo } from '../gitlab/runner-features.js';
import { ShellLauncher } from '../sources/shell-launcher.js';
import type { Slots } from './job-slots.js';
import type { ExecutorFactory } from './remote-job.js';
import type { RunnerLog } from './runner-log.js';
import type { RunnerMetrics } from './runner-metrics.js';
import type { WorkerDeps } from './runner-worker.js';
import { BERTH_REVISION } from '../shared/version.js';

export interface DaemonWiringInput {
  configPath: string;
  version: string;
  systemId: string;
  log: RunnerLog;
  metrics: RunnerMetrics;
  globalSlots: Slots;
  /** Aborts running jobs (forceful shutdown). */
  shutdown: AbortSignal;
  labels?: Labels;
  /** The engine for a connection (default: a DockerodeEngine per distinct connection). */
  engineFor?: (settings: DockerSettings) => EngineClient;
  createExecutor?: ExecutorFactory;
  /** See WorkerDeps.idleness. */
  idleness?: WorkerDeps['idleness'];
}

export interface DaemonWiring {
  /** Where clones and git caches go (next to config.toml). */
  gitCacheDir: string;
  /** The folder of the launcher's program output (removed at start-up: a killed berth's). */
  launchDir: string;
  workerDeps(runner: RunnerConfig): WorkerDeps;
  /** The GitLab client of a runner (one per CA file). */
  clientFor(runner: RunnerConfig): GitLabClient;
  /** Closes the GitLab clients' pooled connections and ends the launcher's shell. */
  close(): Promise<void>;
}

export function wireDaemon(input: DaemonWiringInput): DaemonWiring {
  const engines = new Map<string, EngineClient>();
  const engineFor =
    input.engineFor ??
    ((s: DockerSettings): EngineClient => {
      const key = `${s.host}|${s.tlsVerify}|${s.tlsCertPath}`;
      let e = engines.get(key);
      // With a host, its keys alone (tls_cert_path "" means none); without one, Docker's
      // variables (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) for what the keys leave unset,
      // as gitlab-runner's helpers/docker client falls back to the environment.
      if (!e) engines.set(key, (e = new DockerodeEngine(s.host ? { host: s.host, tlsVerify: s.tlsVerify, tlsCertPath: s.tlsCertPath } : { tlsVerify: s.tlsVerify || undefined, tlsCertPath: s.tlsCertPath || undefined })));
      return e;
    });
  const { metrics, log } = input;
  const clients = new Map<string, GitLabClient>();
  const clientFor = (r: RunnerConfig): GitLabClient => {
    const key = r.tlsCaFile;
    let c = clients.get(key);
    if (!c) {
      c = new GitLabClient({
        info: defaultRunnerInfo(input.version, BERTH_REVISION),
        ...(r.tlsCaFile ? { tlsCaFile: r.tlsCaFile } : {}),
        log,
        observe: (endpoint, status) =>
          status === 'error' ? metrics.apiErrors.inc({ runner: '', endpoint }) : metrics.apiRequests.inc({ runner: '', endpoint, status: String(status) }),
      });
      clients.set(key, c);
    }
    return c;
  };
  const ownContainer = new OwnContainerFinder();
  const gitCacheDir = join(dirname(input.configPath), 'git-cache');
  // git for the jobs' sources, started by a small shell instead of forks of berth (shell-launcher.ts).
  const launchDir = join(gitCacheDir, '.launch');
  const launcher = new ShellLauncher({ outputDir: launchDir });
  return {
    gitCacheDir,
    launchDir,
    clientFor,
    workerDeps: (r) => ({
      client: clientFor(r),
      engineFor,
      globalSlots: input.globalSlots,
      metrics,
      log,
      systemId: input.systemId,
      version: input.version,
      info: defaultRunnerInfo(input.version, BERTH_REVISION),
      shutdown: input.shutdown,
      gitCacheDir,
      launcher,
      cacheDir: join(dirname(input.configPath), 'cache'),
      homeDir: homedir(),
      ownContainer,
      ...(input.labels ? { labels: input.labels } : {}),
      ...(input.createExecutor ? { createExecutor: input.createExecutor } : {}),
      ...(input.idleness ? { idleness: input.idleness } : {}),
    }),
    close: async () => {
      for (const c of clients.values()) c.close();
      await launcher.close();
    },
  };
}
