/**
 * DockerExecutor: runs one job in Docker containers, as an ordered list of steps:
 *
 *   prepare:  images → allow-lists → pulls ‖ network ‖ build volume → services
 *             → build container ‖ service health checks → sources and file variables; the build
 *             container is started as soon as it exists when its image has no ENTRYPOINT (its
 *             shell waits for the first stage's script while the sources are copied in)
 *   stages:   each stage script on the build container's stdin (the container is restarted per stage)
 *   cleanup:  every container, network and volume of the job, whatever happened
 *
 * `prewarm` runs prepare before the job's turn (berth exec, while the jobs before it run) with its
 * log lines held back; the job's prepare then writes them and has nothing left to do.
 *
 * It consumes only a JobSpec; the same code serves `berth exec` and `berth run`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EngineClient, Labels, Mount } from '../../engine/engine-client.js';
import { DEFAULT_BUILDS_DIR, projectDir as projectDirOf, projectTempDir } from '../../job/build-dir.js';
import { JobFailure } from '../../job/job-result.js';
import type { ImageSpec, JobSpec, JobVariable } from '../../job/job-spec.js';
import { stageVariables, type RunnerContext } from '../../job/runner-variables.js';
import { buildStageScript } from '../../job/script-builder.js';
import { debugSettings } from '../../job/debug-settings.js';
import { isShellName } from '../../job/shell-quote.js';
import { expandWith } from '../../job/variables.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { buildContainerSpec, volumeBinds } from './build-container.js';
import type { DockerSettings } from './docker-settings.js';
import type { Executor, ScriptStage, StageResult } from '../executor.js';
import type { ImagePuller, PulledImage, PullRequest } from '../image-puller.js';
import { Labeller } from './labeller.js';
import { PrewarmLostError } from './prewarm-lost-error.js';
import type { OwnContainer, OwnContainerFinder } from './own-container.js';
import { ResourceTracker } from './resource-tracker.js';
import type { RunnerIdentity } from '../runner-identity.js';
import { ServiceManager, type ServiceNetwork } from './service-manager.js';
import { ServiceLogs } from './service-logs.js';
import type { FetchedSources, SourceProvider } from '../source-provider.js';
import { packSources } from './sources-archive.js';
import { mayWriteSourcesDirectly, volumeDirOnHost } from './builds-volume.js';
import { isLocalEngine } from './engine-locality.js';
import { writeSourcesToDir } from './sources-to-dir.js';
import { ContainerProjectFiles } from './container-project-files.js';
import type { ProjectFiles } from '../project-files.js';
import type { JobStatusForScript } from '../../job/runner-variables.js';
import { LaunchedShell } from '../launched-shell.js';
import { SourcesInAdvance } from '../sources-in-advance.js';
import { DEFAULT_STOP_TIMINGS, runStage, type StopTimings } from '../stage-runner.js';
import { untilAborted } from '../../shared/abort.js';
import { isoSeconds } from '../../shared/iso-seconds.js';

export interface DockerExecutorDeps {
  engine: EngineClient;
  puller: ImagePuller;
  settings: DockerSettings;
  runner: RunnerIdentity;
  sources: SourceProvider;
  /** Extra labels on every object (e.g. a test run's label). */
  labels?: Labels;
  /** Finds berth's own container when it runs in one (one finder per process). */
  ownContainer?: OwnContainerFinder;
  stopTimings?: StopTimings;
}

/**
 * Per engine: whether its volumes' folders were found on berth's host (see builds-volume.ts).
 * Once they were not, later jobs no longer make a builds volume only to find that out.
 */
const hostVolumes = new WeakMap<EngineClient, boolean>();

export class DockerExecutor implements Executor {
  private readonly tracker: ResourceTracker;
  private readonly labeller: Labeller;
  private readonly services: ServiceManager;
  private readonly ctx: RunnerContext;
  private image: ImageSpec | null = null;
  private buildContainer: string | null = null;
  private fetched: FetchedSources | null = null;
  /** The sources' release, started once they were copied in (awaited at cleanup). */
  private released: Promise<void> | null = null;
  private sourcesInAdvance: SourcesInAdvance | null = null;
  private files: ContainerProjectFiles | null = null;
  /** The builds volume mounted at CI_BUILDS_DIR, when the job has one. */
  private buildsVolume: string | null = null;
  /** The sources may be written straight into the builds volume (see builds-volume.ts). */
  private writeDirectly = false;
  /** The build container's last stage has fully stopped (it may be started again). */
  private buildStopped: Promise<void> = Promise.resolve();
  /** What prewarm() wrote, until prepare() writes it into the job log. */
  private held: Buffer | null = null;
  /** The build container started early, its shell waiting for the first stage's script. */
  private launched: Promise<LaunchedShell> | null = null;
  /** CI_DEBUG_SERVICES: the services' output followed into the job log until cleanup. */
  private serviceLogs: ServiceLogs | null = null;
  /** The build container's image runs no ENTRYPOINT: its process is the stage's shell. */
  private shellIsTheProcess = false;

  constructor(
    private readonly deps: DockerExecutorDeps,
    private readonly job: JobSpec,
    private readonly log: JobLog,
  ) {
    this.labeller = new Labeller(job, deps.runner, randomBytes(8).toString('hex'), deps.labels);
    this.tracker = new ResourceTracker(deps.engine, this.labeller.jobFilter);
    const own = async (): Promise<OwnContainer | null> => (deps.ownContainer ? deps.ownContainer.find(deps.engine) : null);
    this.services = new ServiceManager(deps.engine, this.tracker, this.labeller, deps.settings, log, own);
    const buildsDir = deps.runner.buildsDir || DEFAULT_BUILDS_DIR;
    this.ctx = {
      buildsDir,
      projectDir: projectDirOf(job, buildsDir),
      image: '',
      runnerVersion: deps.runner.version,
      runnerShortToken: deps.runner.shortToken,
      environment: deps.runner.environment,
      featureFlags: deps.runner.featureFlags,
    };
  }

  async prepare(signal: AbortSignal): Promise<void> {
    if (this.held) {
      await this.checkPrewarmed(signal);
      this.log.raw(this.held);
      this.held = null;
      return;
    }
    await this.prepareInto(this.log, signal);
  }

  /**
   * At the job's turn, the prewarmed build container must still be as prewarm() left it: there,
   * and running (its shell waiting) when it was started early, else not started. Throws
   * PrewarmLostError otherwise (the caller removes the rest and prepares afresh).
   */
  private async checkPrewarmed(signal: AbortSignal): Promise<void> {
    const id = this.buildContainer;
    // The early start may still be on its way: wait for it (a start that failed counts as lost),
    // unless the job is stopped meanwhile (an engine whose start hangs).
    const launched = this.launched ? await untilAborted(this.launched.then(() => true, () => false), signal) : null;
    const info = id && launched !== false ? await this.deps.engine.inspectContainer(id, signal) : null;
    const want = launched ? 'running' : 'created';
    const state = launched === false ? 'not started' : info ? info.state.status : 'gone';
    if (state !== want) throw new PrewarmLostError(this.labeller.name('build'), state);
  }

  /** The job has no service: prewarm() would start nothing (a service container is a process of the job). */
  get canPrewarm(): boolean {
    return this.job.services.length === 0 && this.deps.settings.services.length === 0;
  }

  /**
   * Prepares the job before its turn: pulls, the build container created (never started),
   * sources and file variables copied in; a pull is tried once (no retry of a transient failure:
   * the job's prepare retries it at its turn). The log lines are held back until prepare(); a failure
   * is thrown and its lines dropped (call cleanup(), then prepare the job afresh). Only for a job
   * that canPrewarm: a job whose turn never comes must not have run anything.
   */
  async prewarm(signal: AbortSignal): Promise<void> {
    if (!this.canPrewarm) throw new Error('prewarm: a job with services cannot be prepared ahead of its turn');
    const held = new MemoryByteWriter();
    await this.prepareInto(new JobLog(held, { traceSections: this.log.traceSections }), signal, true);
    this.held = held.buffer;
  }

  /** `ahead`: before the job's turn (prewarm): pulls try once, the job's turn retries them. */
  private async prepareInto(log: JobLog, signal: AbortSignal, ahead = false): Promise<void> {
    const { deps } = this;
    log.sectionStart('prepare_executor', 'Preparing the "docker" executor');
    const vars = stageVariables(this.job, this.ctx, 'running');
    const image = this.buildImage(vars);
    this.image = image;
    this.ctx.image = image.name;
    log.println(`Using Docker executor with image ${image.name} ...`);
    for (const warning of debugSettings(vars, deps.runner.debugTraceDisabled).warnings) log.warning(warning);
    this.sourcesInAdvance = new SourcesInAdvance(deps.sources, this.job, signal, deps.runner.featureFlags);

    const services = [
      ...deps.settings.services.map((s) => ({ spec: s, fromConfig: true })),
      ...this.job.services.map((s) => ({ spec: s, fromConfig: false })),
    ]
      .map((s, index) => ({ ...s, index, written: s.spec.name, spec: { ...s.spec, name: expandWith(s.spec.name, vars).trim() } }))
      .filter((s) => {
        // gitlab-runner skips a service whose name expands to nothing (`name: $DB_IMAGE` with DB_IMAGE unset).
        if (s.spec.name !== '') return true;
        log.warning(`Skipping service ${s.fromConfig ? `[[runners.docker.services]] #${s.index}` : `services[${s.index - deps.settings.services.length}]`} "${s.written}": its name expands to nothing.`);
        return false;
      });

    const request = (img: ImageSpec, role: PullRequest['role']): PullRequest => ({ image: img, role, job: this.job, log, signal, ...(ahead ? { ahead } : {}) });
    const buildRequest = request(image, { kind: 'build' });
    const serviceRequests = services.map((s) => request(s.spec, { kind: 'service', index: s.index, fromConfig: s.fromConfig }));
    for (const r of [buildRequest, ...serviceRequests]) deps.puller.check(r);

    const network = this.serviceNetwork(services.length > 0);
    const binds = volumeBinds(deps.settings.volumes, (dest) => this.cacheVolumeName(dest), log);
    this.writeDirectly = mayWriteSourcesDirectly({
      localEngine: isLocalEngine(deps.engine.endpoint) && hostVolumes.get(deps.engine) !== false,
      hasServices: services.length > 0,
      buildsDir: this.ctx.buildsDir,
      projectDir: this.ctx.projectDir,
      binds,
    });
    const [pulledBuild, pulledServices, networkId] = await Promise.all([
      deps.puller.pull(buildRequest),
      Promise.all(serviceRequests.map((r) => deps.puller.pull(r))),
      network.create ? this.createNetwork(signal) : Promise.resolve(null),
    ]);
    // The builds volume is made by the engine with the first container that mounts it.
    const volume = services.length || this.writeDirectly ? this.tracker.volumeMadeByMount(this.labeller.name('builds')) : null;
    if (networkId) network.net = { mode: networkId.name, userDefined: true };
    if (networkId) this.ctx.networkName = networkId.name;
    this.buildsVolume = volume;

    const mounts: Mount[] = volume ? [{ type: 'volume', source: volume, target: this.ctx.buildsDir, labels: this.labeller.labels('volume') }] : [];
    const started = await this.services.start(
      services.map((s, i) => ({ spec: s.spec, pulled: pulledServices[i]!, index: s.index })),
      network.net,
      mounts,
      vars,
      signal,
    );
    // executors/docker/services.go createServices: the services' output from their start, before the wait.
    if (started.length > 0 && debugSettings(vars, deps.runner.debugTraceDisabled).services) {
      this.serviceLogs = new ServiceLogs(deps.engine, log);
      this.serviceLogs.follow(started.map((s) => ({ containerId: s.containerId, display: s.display, aliases: s.aliases })));
    }
    const [buildId] = await Promise.all([
      this.createBuildContainer(image, pulledBuild, mounts, binds, network.net, log, signal).then(({ id, startsEarly }) => {
        this.shellIsTheProcess = startsEarly;
        // Started now, the container's start (the slowest engine call of a job) overlaps the
        // sources' fetch and copy; the first stage then only writes its script.
        if (startsEarly) {
          this.launched = LaunchedShell.launch(deps.engine, id);
          this.launched.catch(() => undefined);
        }
        return id;
      }),
      // On a remote engine the health check runs in a probe container of the build image (already there).
      this.services.waitAll(started, deps.settings.waitForServicesTimeout, network.net, signal, {
        ref: pulledBuild.ref,
        name: image.name,
        platform: image.docker?.platform,
      }),
    ]);
    this.buildContainer = buildId;
    log.sectionEnd('prepare_executor');

    log.sectionStart('prepare_script', 'Preparing environment');
    log.println(`Running on ${this.labeller.name('build')} via ${hostname()}...`);
    log.sectionEnd('prepare_script');
    await this.copySources(vars, log, signal);
  }

  async runStage(stage: ScriptStage, signal: AbortSignal): Promise<StageResult> {
    if (!this.buildContainer || !this.image) throw new Error('runStage before prepare');
    // The job starts with its first stage (prepare may have run ahead of its turn, prewarm).
    this.ctx.startedAt ??= isoSeconds();
    const vars = stageVariables(this.job, this.ctx, stage.jobStatus);
    const tmp = projectTempDir(this.ctx.projectDir);
    const script = buildStageScript({
      commands: stage.commands,
      exports: vars.map((v) => ({ key: v.key, value: v.file ? `${tmp}/${v.key}` : v.value })),
      workDir: this.ctx.projectDir,
      nonce: randomBytes(12).toString('hex'),
      debugTrace: debugSettings(vars, this.deps.runner.debugTraceDisabled).trace,
    });
    await this.buildStopped;
    const launched = this.launched ?? undefined;
    this.launched = null;
    const outcome = await runStage(this.deps.engine, this.buildContainer, script, this.log, signal, this.deps.stopTimings ?? DEFAULT_STOP_TIMINGS, launched, {
      shellIsTheProcess: this.shellIsTheProcess,
    });
    this.buildStopped = outcome.exited;
    if (outcome.stopped) return { exitCode: outcome.exitCode, stopped: true };
    if (!outcome.scriptStarted && outcome.exitCode === 0) {
      throw new JobFailure(
        'script_failure',
        `the job script never ran: the ENTRYPOINT of image "${this.image.name}" exited without running the command it was given. ` +
          'An image ENTRYPOINT must end with exec "$@"; or set the job\'s image:entrypoint to [""] to bypass it',
      );
    }
    if (outcome.scriptExitStatus !== null && outcome.scriptExitStatus !== outcome.exitCode) {
      this.log.warning(
        `the ENTRYPOINT of image "${this.image.name}" changed the script's exit status ${outcome.scriptExitStatus} into ${outcome.exitCode}; using ${outcome.scriptExitStatus}`,
      );
      return { exitCode: outcome.scriptExitStatus, stopped: false };
    }
    return { exitCode: outcome.exitCode, stopped: false };
  }

  projectFiles(): ProjectFiles | null {
    return this.files;
  }

  variables(jobStatus: JobStatusForScript): readonly JobVariable[] {
    return stageVariables(this.job, this.ctx, jobStatus);
  }

  async cleanup(): Promise<string[]> {
    const launched = this.launched;
    this.launched = null;
    // CI_DEBUG_SERVICES: the streams end before the services are removed (their shutdown is no part of the job).
    await this.serviceLogs?.stop();
    this.serviceLogs = null;
    const problems = await this.tracker.cleanup();
    // A shell started early that no stage took (the job ended before its script): its container
    // is gone with the rest; close the connection and the wait.
    await launched?.then((shell) => shell.dispose(), () => undefined);
    this.buildContainer = null;
    this.files = null;
    this.held = null;
    // A prepare that failed early may have left the fetch running: wait for it, then release.
    this.fetched ??= (await this.sourcesInAdvance?.settled()) ?? null;
    this.sourcesInAdvance = null;
    if (this.fetched) {
      await this.fetched.release().catch((err: unknown) => problems.push(`sources: ${String(err)}`));
      this.fetched = null;
    }
    const released = this.released;
    this.released = null;
    await released?.catch((err: unknown) => problems.push(`sources: ${String(err)}`));
    return problems;
  }

  /** The job's image, else the runner's; its name expanded with the job's variables. */
  private buildImage(vars: readonly JobVariable[]): ImageSpec {
    const image = this.job.image?.name ? this.job.image : { name: this.deps.settings.image };
    const name = expandWith(image.name, vars).trim();
    if (!name) {
      throw new JobFailure(
        'runner_configuration_error',
        'no Docker image specified to run the build in: set image: in the job or default:, or [runners.docker] image (berth exec: --docker-image)',
      );
    }
    return { ...image, name };
  }

  private serviceNetwork(hasServices: boolean): { create: boolean; net: ServiceNetwork } {
    const mode = this.deps.settings.networkMode;
    if (mode) {
      const userDefined = !['host', 'none', 'bridge', 'default'].includes(mode) && !mode.startsWith('container:');
      return { create: false, net: { mode, userDefined } };
    }
    return { create: hasServices, net: { mode: '', userDefined: false } };
  }

  private async createNetwork(signal: AbortSignal): Promise<{ id: string; name: string }> {
    const name = this.labeller.name('network');
    const { networkMtu, enableIpv6 } = this.deps.settings;
    const id = await this.tracker.createNetwork(name, this.labeller.labels('network'), { mtu: networkMtu || undefined, enableIpv6 }, signal);
    return { id, name };
  }

  private cacheVolumeName(dest: string): string {
    const hash = createHash('md5').update(dest).digest('hex');
    return `berth-${this.deps.runner.shortToken}-project-${this.job.jobInfo.projectId}-cache-${hash}`;
  }

  /**
   * Creates the build container. `startsEarly`: its image runs no ENTRYPOINT (none in the image,
   * or cleared with `[""]`), so starting it before the sources are in runs only the shell that
   * waits for the script; an ENTRYPOINT is the image's program and runs when the job's turn comes.
   */
  private async createBuildContainer(
    image: ImageSpec,
    pulled: PulledImage,
    mounts: Mount[],
    binds: string[],
    network: ServiceNetwork,
    log: JobLog,
    signal: AbortSignal,
  ): Promise<{ id: string; startsEarly: boolean }> {
    const vars = stageVariables(this.job, this.ctx, 'running');
    const spec = buildContainerSpec({ image, pulled, settings: this.deps.settings, labeller: this.labeller, variables: vars, mounts, binds, network, log });
    const entrypoint = spec.entrypoint ?? pulled.info.config.entrypoint ?? [];
    const id = await this.tracker.createContainer(spec, signal);
    return { id, startsEarly: entrypoint.every((part) => part === '') };
  }

  /** One tar stream: the project files into CI_PROJECT_DIR, file variables into CI_PROJECT_DIR.tmp. */
  private async copySources(vars: readonly JobVariable[], log: JobLog, signal: AbortSignal): Promise<void> {
    const { deps } = this;
    log.sectionStart('get_sources', deps.sources.header);
    const fetched = await this.sourcesInAdvance!.collect(log);
    this.fetched = fetched;
    this.sourcesInAdvance = null;
    if (this.fetched) log.println(this.fetched.description);
    const fileVariables = vars.filter((v) => v.file).map((v) => ({ key: v.key, value: v.value }));
    for (const bad of fileVariables.filter((v) => !isShellName(v.key))) {
      log.warning(`file variable "${bad.key}" skipped: a variable name may only contain letters, digits and _`);
    }
    const input = { projectDir: this.ctx.projectDir, source: this.fetched, fileVariables: fileVariables.filter((v) => isShellName(v.key)) };
    const onHost = this.writeDirectly && this.buildsVolume ? await volumeDirOnHost(deps.engine, this.buildsVolume, this.ctx.buildsDir, signal) : null;
    if (onHost) hostVolumes.set(deps.engine, !('refused' in onHost) || onHost.refused !== 'elsewhere');
    if (onHost && 'target' in onHost) {
      await writeSourcesToDir(onHost.target, input, signal);
    } else {
      const archive = packSources(input);
      await Promise.all([deps.engine.putArchive(this.buildContainer!, '/', archive.stream, signal), archive.done]);
    }
    this.files = new ContainerProjectFiles(deps.engine, this.buildContainer!, this.ctx.projectDir, this.fetched ? new Set(this.fetched.files) : null, () => this.buildStopped);
    // The copy is in: the provider's files are no longer needed. Released now, not at cleanup: a
    // repository reused per project (GIT_STRATEGY=fetch) is locked until then, and every other
    // job of the project waited for this one to end before its own fetch.
    if (this.fetched) {
      const fetched = this.fetched;
      this.fetched = null;
      this.released = fetched.release();
      this.released.catch(() => undefined);
    }
    log.sectionEnd('get_sources');
  }
}
