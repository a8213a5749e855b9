/**
 * RunnerWorker: one `[[runners]]` entry of `berth run`. The feeder pokes it every
 * check_interval; it asks GitLab for a job only when a slot is free in every limit (global
 * `concurrent`, its `limit`, its `request_concurrency`), runs each job it gets in the
 * background, and asks again at once after a job arrives (unless strict_check_interval).
 * After `unhealthy_requests_limit` unhealthy answers in a row it rests for
 * `unhealthy_interval`. A payload it cannot run is reported failed when GitLab's job id and
 * token can be read, so no job is left hanging.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDistributedCacheStore } from '../cache/create-cache-transport.js';
import type { RunnerConfig } from '../config/berth-config.js';
import type { JobFileTransports } from '../executor/job-files/stage-context.js';
import { GitLabArtifactTransport } from '../gitlab/gitlab-artifact-transport.js';
import type { JobSpec } from '../job/job-spec.js';
import { featureFlagOn } from '../job/feature-flags.js';
import { transferMeterFrequency } from '../job/transfer-meter-frequency.js';
import { jobFilesFactory } from './job-files-factory.js';
import { effectiveRunnerSettings, type EffectiveRunnerSettings } from '../config/effective-settings.js';
import { toDockerSettings } from './to-docker-settings.js';
import { toRunnerIdentity } from './to-runner-identity.js';
import type { EngineClient, Labels } from '../engine/engine-client.js';
import type { DockerSettings } from '../executor/docker/docker-settings.js';
import type { OwnContainerFinder } from '../executor/docker/own-container.js';
import { PullManager } from '../executor/docker/pull-manager.js';
import type { RunnerIdentity } from '../executor/runner-identity.js';
import type { GitLabClient } from '../gitlab/gitlab-client.js';
import type { JobPayloadError } from '../gitlab/job-payload.js';
import type { RunnerInfo } from '../gitlab/runner-registration-api.js';
import { TraceUploader } from '../gitlab/trace-uploader.js';
import { JobLog } from '../log/job-log.js';
import { GitSource } from '../sources/git-source.js';
import type { ProcessLauncher } from '../sources/process-launcher.js';
import { errorMessage } from '../shared/errors.js';
import { acquireAll, Slots } from './job-slots.js';
import { runRemoteJob, type ExecutorFactory } from './remote-job.js';
import type { RunnerLog } from './runner-log.js';
import type { RunnerMetrics } from './runner-metrics.js';

export interface WorkerDeps {
  client: GitLabClient;
  /** The engine of `[runners.docker] host` (one client per distinct connection). */
  engineFor: (settings: DockerSettings) => EngineClient;
  globalSlots: Slots;
  metrics: RunnerMetrics;
  log: RunnerLog;
  systemId: string;
  version: string;
  info: RunnerInfo;
  /** Aborts running jobs (forceful shutdown). */
  shutdown: AbortSignal;
  gitCacheDir: string;
  /** How git is started for the jobs' sources (default: forks of berth). */
  launcher?: ProcessLauncher;
  /** The runners' local caches (`<config dir>/cache`): one folder per runner, then per project. */
  cacheDir: string;
  homeDir: string;
  labels?: Labels;
  /** berth's own container, when it runs in one (one finder per process). */
  ownContainer?: OwnContainerFinder;
  now?: () => number;
  /** The executor of each job (default: the Docker executor). */
  createExecutor?: ExecutorFactory;
  /** Told when a job starts and when a request found no job while nothing runs (IdleHeapTrim). */
  idleness?: { busy(): void; idle(): void };
}

interface WorkerSetup {
  config: RunnerConfig;
  engine: EngineClient;
  effective: EffectiveRunnerSettings;
  settings: DockerSettings;
  identity: RunnerIdentity;
  puller: PullManager;
  sources: GitSource;
  files: (job: JobSpec) => JobFileTransports;
}

/** Where a runner's per-job clones go; emptied when the daemon starts. */
export function cloneDirOf(gitCacheDir: string, shortToken: string): string {
  return `${gitCacheDir}/clones/${shortToken}`;
}

export class RunnerWorker {
  private setup!: WorkerSetup;
  private readonly limitSlots = new Slots(0);
  private readonly requestSlots = new Slots(1);
  private readonly jobs = new Set<Promise<void>>();
  private readonly requests = new Set<Promise<void>>();
  private stopped = false;
  private unhealthyCount = 0;
  private disabledUntil = 0;

  constructor(
    config: RunnerConfig,
    private readonly deps: WorkerDeps,
  ) {
    this.update(config);
  }

  get shortToken(): string {
    return this.setup.identity.shortToken;
  }

  get token(): string {
    return this.setup.config.token;
  }

  get engine(): EngineClient {
    return this.setup.engine;
  }

  get systemIdentity(): RunnerIdentity {
    return this.setup.identity;
  }

  get runningJobs(): number {
    return this.jobs.size;
  }

  /** New settings for jobs that start from now on; running jobs keep theirs. */
  update(config: RunnerConfig): void {
    const settings = toDockerSettings(config);
    const identity = toRunnerIdentity(config, this.deps.systemId, this.deps.version);
    const effective = effectiveRunnerSettings(config);
    const engine = this.deps.engineFor(settings);
    this.setup = {
      config,
      engine,
      effective,
      settings,
      identity,
      puller: new PullManager({
        engine,
        settings,
        defaultPullPolicy: 'always',
        runnerEnvironment: config.environment,
        homeDir: this.deps.homeDir,
      }),
      sources: new GitSource({
        cacheDir: `${this.deps.gitCacheDir}/${identity.shortToken}`,
        cloneDir: cloneDirOf(this.deps.gitCacheDir, identity.shortToken),
        cloneUrl: config.cloneUrl || undefined,
        systemId: this.deps.systemId,
        ...(this.deps.launcher ? { launcher: this.deps.launcher } : {}),
      }),
      files: this.jobFiles(config, identity),
    };
    this.limitSlots.setMax(effective.limit);
    this.requestSlots.setMax(effective.requestConcurrency);
    this.deps.metrics.limit.set({ runner: identity.shortToken }, effective.limit);
  }

  /** The artifact and cache transports of this runner's jobs. */
  private jobFiles(config: RunnerConfig, identity: RunnerIdentity): (job: JobSpec) => JobFileTransports {
    // [runners.artifact]: gitlab-runner's defaults (1 h, 10 min) when unset or not positive.
    const { uploadTimeout, responseHeaderTimeout } = config.artifact;
    const artifactsApi = this.deps.client.artifactsApi({
      ...(uploadTimeout > 0 ? { uploadTimeoutMs: uploadTimeout } : {}),
      ...(responseHeaderTimeout > 0 ? { responseHeaderTimeoutMs: responseHeaderTimeout } : {}),
    });
    return jobFilesFactory({
      cacheRoot: join(this.deps.cacheDir, identity.shortToken),
      distributed: createDistributedCacheStore(config.cache, identity.shortToken),
      artifacts: (job) =>
        new GitLabArtifactTransport({
          api: artifactsApi,
          job: { url: config.url, id: job.id, token: job.token },
          tempDir: tmpdir(),
          // [runners.feature_flags] wins over the job's variable, as gitlab-runner resolves flags.
          directDownload: featureFlagOn('FF_USE_DIRECT_DOWNLOAD', true, identity.featureFlags, job.variables),
          meterMs: transferMeterFrequency(job.variables).ms,
        }),
    });
  }

  /** Asks GitLab for a job if every limit has room. */
  poke(): void {
    if (this.stopped || this.now() < this.disabledUntil) return;
    const release = acquireAll([this.deps.globalSlots, this.limitSlots]);
    if (!release) return;
    if (!this.requestSlots.tryAcquire()) {
      release();
      return;
    }
    const request = this.request(release).finally(() => this.requests.delete(request));
    this.requests.add(request);
  }

  /** No more job requests (requests already sent finish, and a job they bring still runs). */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves when no request is in flight and no job runs. */
  async idle(): Promise<void> {
    while (this.requests.size || this.jobs.size) await Promise.allSettled([...this.requests, ...this.jobs]);
  }

  private async request(releaseJobSlot: () => void): Promise<void> {
    const { config, identity } = this.setup;
    const fields = { runner: identity.shortToken };
    let keepSlot = false;
    let empty = false;
    try {
      const res = await this.deps.client.requestJob(
        { url: config.url, token: config.token },
        { systemId: this.deps.systemId, info: this.deps.info, extras: Object.keys(config.labels).length ? { labels: config.labels } : {} },
      );
      this.recordHealth(res.healthy);
      switch (res.kind) {
        case 'job':
          this.deps.log.info('Checking for jobs... received', { ...fields, job: res.job.id, repo: res.job.jobInfo.projectFullPath });
          keepSlot = true;
          this.startJob(res.job, this.setup, releaseJobSlot);
          break;
        case 'invalid-job':
          this.deps.log.error(`Checking for jobs... received a job berth cannot run: ${res.error.message}`, { ...fields, job: res.error.jobId ?? undefined });
          await this.reportInvalid(res.error);
          break;
        case 'no-job':
          this.deps.log.debug('Checking for jobs... nothing', fields);
          empty = true;
          break;
        case 'forbidden':
          this.deps.log.error('Checking for jobs... forbidden: the runner token is not valid (berth verify tells more)', fields);
          break;
        default:
          this.deps.log.warn(`Checking for jobs... ${res.kind}${'message' in res ? `: ${res.message}` : ''}`, fields);
      }
    } catch (err) {
      this.deps.log.error(`Checking for jobs... failed: ${errorMessage(err)}`, fields);
    } finally {
      this.requestSlots.release();
      if (!keepSlot) releaseJobSlot();
    }
    // Nothing runs and nothing is being asked for, on any runner: the daemon is idle.
    if (empty && this.deps.globalSlots.inUse === 0) this.deps.idleness?.idle();
    if (keepSlot && !config.strictCheckInterval) this.poke();
  }

  private startJob(job: Parameters<typeof runRemoteJob>[0], setup: WorkerSetup, release: () => void): void {
    const runner = setup.identity.shortToken;
    const { metrics } = this.deps;
    this.deps.idleness?.busy();
    metrics.jobsTotal.inc({ runner });
    metrics.runningJobs.inc({ runner, state: 'running' });
    const started = Date.now();
    const run = runRemoteJob(job, {
      url: setup.config.url,
      api: this.deps.client,
      engine: setup.engine,
      puller: setup.puller,
      settings: setup.settings,
      runner: setup.identity,
      sources: setup.sources,
      outputLimitBytes: setup.effective.outputLimitBytes,
      finalUpdateRetryLimit: setup.effective.finalUpdateRetryLimit,
      debugTraceDisabled: setup.config.debugTraceDisabled,
      shutdown: this.deps.shutdown,
      log: this.deps.log,
      labels: this.deps.labels,
      ownContainer: this.deps.ownContainer,
      createExecutor: this.deps.createExecutor,
      files: setup.files,
    })
      .then(({ result }) => {
        metrics.jobResults.inc({ runner, state: result.state, failure_reason: result.failureReason ?? '' });
        if (result.state !== 'success') metrics.failedJobs.inc({ runner, failure_reason: result.failureReason ?? 'unknown_failure' });
      })
      .catch((err: unknown) => this.deps.log.error(`Job ended with an internal error: ${errorMessage(err)}`, { runner, job: job.id }))
      .finally(() => {
        metrics.jobDuration.observe({ runner }, (Date.now() - started) / 1000);
        metrics.runningJobs.dec({ runner, state: 'running' });
        release();
        this.jobs.delete(run);
        // A slot is free: ask for the next job now rather than at the next check_interval.
        if (!setup.config.strictCheckInterval) this.poke();
      });
    this.jobs.add(run);
  }

  /** A job GitLab assigned but berth cannot run: tell GitLab, with the reason in the job log. */
  private async reportInvalid(error: JobPayloadError): Promise<void> {
    if (error.jobId === null || error.jobToken === null) return;
    const uploader = new TraceUploader({
      api: this.deps.client,
      job: { url: this.setup.config.url, id: error.jobId, token: error.jobToken },
      log: this.deps.log,
    });
    const log = new JobLog(uploader);
    uploader.start();
    log.error(`berth cannot run this job: ${error.message}`);
    log.end();
    await uploader.finish({ state: 'failed', failureReason: 'runner_system_failure', exitCode: error.exitCode });
    uploader.close();
  }

  private recordHealth(healthy: boolean): void {
    if (healthy) {
      this.unhealthyCount = 0;
      return;
    }
    this.unhealthyCount++;
    const { unhealthyRequestsLimit, unhealthyIntervalMs } = this.setup.effective;
    if (this.unhealthyCount >= unhealthyRequestsLimit) {
      this.disabledUntil = this.now() + unhealthyIntervalMs;
      this.unhealthyCount = 0;
      this.deps.log.error(`Runner is not healthy and will be disabled for ${Math.round(unhealthyIntervalMs / 1000)} s!`, {
        runner: this.setup.identity.shortToken,
      });
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
