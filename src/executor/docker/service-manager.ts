/**
 * ServiceManager: creates and starts a job's services on the job network with their aliases,
 * then waits for all of them in parallel (up to wait_for_services_timeout), warning with the
 * service's own log when one never answers. A service that cannot start fails the job with a
 * message naming it; nothing is silently dropped.
 *
 * Where the health check runs: berth dials the service itself when the engine is local (unix
 * socket, tcp to a loopback address) or when berth runs in a container of that engine (which
 * joins the job network for the check, and leaves it afterwards). Against a remote engine, whose
 * container addresses berth's machine cannot route to, a probe container of the job's build
 * image runs the check on the job network (service-probe.ts), as gitlab-runner's
 * wait-for-service container does (executors/docker/services.go).
 */
import type { EngineClient, Mount } from '../../engine/engine-client.js';
import { JobFailure } from '../../job/job-result.js';
import type { JobVariable, ServiceSpec } from '../../job/job-spec.js';
import { expandWith } from '../../job/variables.js';
import type { JobLog } from '../../log/job-log.js';
import { errorMessage } from '../../shared/errors.js';
import { checkContainerEnv } from '../container-env-limit.js';
import type { DockerSettings } from './docker-settings.js';
import type { PulledImage } from '../image-puller.js';
import type { Labeller } from './labeller.js';
import type { ResourceTracker } from './resource-tracker.js';
import { serviceHostConfig } from './host-config.js';
import { healthCheckPorts, waitForService, type HealthResult } from './service-health.js';
import { isLocalEngine } from './engine-locality.js';
import { probeService, type ProbeImage, type ProbeResult } from './service-probe.js';
import { assignAliases, imagePathForAlias, imageVersion } from './service-aliases.js';
import { matchesAnyGlob } from './glob-match.js';
import { canJoinNetworks, type OwnContainer } from './own-container.js';

export interface ServiceToStart {
  spec: ServiceSpec;
  pulled: PulledImage;
  /** Position in the job's service list (config services first). */
  index: number;
}

export interface StartedService {
  display: string;
  /** The suffix of its container's name (the probe container's name derives from it). */
  nameSuffix: string;
  containerId: string;
  aliases: string[];
  env: { key: string; value: string }[];
  exposedPorts: string[];
}

export interface ServiceNetwork {
  /** NetworkMode for the containers ("" for the engine default). */
  mode: string;
  /** Whether aliases apply (a user-defined network). */
  userDefined: boolean;
}

const SERVICE_LOG_LIMIT = 64 * 1024;

export class ServiceManager {
  constructor(
    private readonly engine: EngineClient,
    private readonly tracker: ResourceTracker,
    private readonly labeller: Labeller,
    private readonly settings: DockerSettings,
    private readonly log: JobLog,
    /** berth's own container on this engine, if it runs in one. */
    private readonly ownContainer: () => Promise<OwnContainer | null> = async () => null,
  ) {}

  async start(
    services: readonly ServiceToStart[],
    network: ServiceNetwork,
    mounts: Mount[],
    jobVariables: readonly JobVariable[],
    signal: AbortSignal,
  ): Promise<StartedService[]> {
    const taken = new Set<string>(['build']);
    const planned = services.map((s) => {
      const { aliases, skipped } = assignAliases(s.spec.name, s.spec.aliases, taken);
      return { ...s, aliases, skipped };
    });
    return Promise.all(planned.map((p) => this.startOne(p, p.aliases, p.skipped, network, mounts, jobVariables, signal)));
  }

  private async startOne(
    s: ServiceToStart,
    aliases: string[],
    skipped: string[],
    network: ServiceNetwork,
    mounts: Mount[],
    jobVariables: readonly JobVariable[],
    signal: AbortSignal,
  ): Promise<StartedService> {
    const { name, version } = imageVersion(s.spec.name);
    const where = `services[${s.index}]`;
    this.log.println(`Starting service ${name}${version} ...`);
    for (const alias of skipped) {
      this.log.warning(`Skipping alias "${alias}" for service "${s.spec.name}" (${where}): alias is already in use by another service.`);
    }
    if (network.userDefined && aliases.length === 0) {
      this.log.warning(`Service "${s.spec.name}" (${where}) has no alias left; it is reachable by its container name only.`);
    }
    const publicVars = jobVariables.filter((v) => v.public && !v.file);
    const own = s.spec.variables.map((v) => ({ key: v.key, value: expandWith(v.value, jobVariables) }));
    const env = [...publicVars.map((v) => ({ key: v.key, value: v.value })), ...own];
    checkContainerEnv(env.map((e) => `${e.key}=${e.value}`), `service "${s.spec.name}"`);
    const useEntrypoint = s.spec.entrypoint?.length && !this.settings.disableEntrypointOverwrite;
    const privileged =
      (this.settings.servicesPrivileged ?? this.settings.privileged) &&
      matchesAnyGlob(s.spec.name, this.settings.allowedPrivilegedServices, true);
    const nameSuffix = `${imagePathForAlias(s.spec.name).replace(/\//g, '__')}-${s.index}`;
    try {
      const id = await this.tracker.createContainer(
        {
          name: this.labeller.name(nameSuffix),
          image: s.pulled.ref,
          cmd: s.spec.command?.length ? s.spec.command : undefined,
          entrypoint: useEntrypoint ? s.spec.entrypoint : undefined,
          env: env.map((e) => `${e.key}=${e.value}`),
          labels: this.labeller.labels('service', { 'berth.service': name, 'berth.service.version': version }),
          user: s.spec.docker?.user,
          mounts,
          networkMode: network.mode || undefined,
          networkAliases: network.userDefined ? aliases : undefined,
          extraHosts: this.settings.extraHosts,
          privileged,
          platform: s.spec.docker?.platform,
          hostConfig: serviceHostConfig(this.settings),
        },
        signal,
      );
      await this.engine.startContainer(id, signal);
      return { display: s.spec.name, nameSuffix, containerId: id, aliases, env, exposedPorts: s.pulled.info.config.exposedPorts };
    } catch (err) {
      if (signal.aborted) throw err;
      throw new JobFailure(
        'runner_system_failure',
        `Service "${s.spec.name}" (${where}) could not be started: ${errorMessage(err)}`,
        { cause: err, preparationRetryable: true },
      );
    }
  }

  /**
   * Waits for every service at once; a service that never answers is a warning, as in GitLab.
   * `probeImage` (the job's build image) runs the check on the job network when the engine is
   * remote; without it berth dials the services itself.
   */
  async waitAll(
    started: readonly StartedService[],
    timeoutSeconds: number,
    network: ServiceNetwork,
    signal: AbortSignal,
    probeImage?: ProbeImage,
  ): Promise<void> {
    if (!started.length || timeoutSeconds < 0) return;
    const timeout = timeoutSeconds === 0 ? 30 : timeoutSeconds;
    this.log.println(`Waiting for services to be up and running (timeout ${timeout} seconds)...`);
    const own = await this.ownContainer();
    const joined = own ? await this.joinNetwork(own, network, signal) : null;
    const probe = own === null && probeImage !== undefined && !isLocalEngine(this.engine.endpoint) ? probeImage : null;
    try {
      await Promise.all(started.map((s) => this.waitOne(s, timeout, network, probe, signal)));
    } finally {
      // If this fails, cleanup tries again (the tracker still knows the connection).
      if (joined) await this.tracker.disconnectNetwork(network.mode, joined).catch(() => undefined);
    }
  }

  /** Connects berth's own container to the job network when it is not on it; returns its id. */
  private async joinNetwork(own: OwnContainer, network: ServiceNetwork, signal: AbortSignal): Promise<string | null> {
    if (!network.userDefined || !canJoinNetworks(own)) return null;
    try {
      const info = await this.engine.inspectContainer(own.id, signal);
      if (!info || info.ipAddresses[network.mode] !== undefined) return null;
      await this.tracker.connectNetwork(network.mode, own.id, signal);
      return own.id;
    } catch (err) {
      if (signal.aborted) throw err;
      this.log.warning(`berth's container ${own.id.slice(0, 12)} could not join network ${network.mode} for the service health check: ${errorMessage(err)}`);
      return null;
    }
  }

  private async waitOne(s: StartedService, timeoutSeconds: number, network: ServiceNetwork, probe: ProbeImage | null, signal: AbortSignal): Promise<void> {
    const ports = healthCheckPorts(s.exposedPorts, s.env);
    if (!ports.length) {
      this.log.println(`Service ${s.display} exposes no TCP port: not waiting for it (set HEALTHCHECK_TCP_PORT to check one).`);
      return;
    }
    const info = await this.engine.inspectContainer(s.containerId, signal);
    const host = network.mode === 'host' ? '127.0.0.1' : pickAddress(info?.ipAddresses ?? {}, network.mode);
    let result: HealthResult | ProbeResult = { ok: false, error: 'the service container has no IP address' };
    if (host && probe) {
      const target = { serviceContainerId: s.containerId, nameSuffix: s.nameSuffix, host, ports, networkMode: network.mode };
      result = await probeService({ engine: this.engine, tracker: this.tracker, labeller: this.labeller }, probe, target, timeoutSeconds * 1000, signal);
    } else if (host) {
      result = await waitForService(this.engine, { containerId: s.containerId, host, ports }, timeoutSeconds * 1000, signal);
    }
    if (result.ok || signal.aborted) return;
    if ('unavailable' in result) {
      // gitlab-runner goes on after a failed health check with a warning; so does berth when the check cannot run at all.
      this.log.warning(
        `the health check of service ${s.display} could not run in image ${probe?.name ?? ''} (${result.unavailable}); not waiting for the service. ` +
          'The Docker engine is remote, so the check runs in a container of the job\'s image on the job network: use an image with nc, bash, curl or wget, ' +
          'or set wait_for_services_timeout = -1 to skip the check',
      );
      return;
    }
    const logs = await this.engine.containerLogs(s.containerId, SERVICE_LOG_LIMIT).catch((err) => `(no logs: ${errorMessage(err)})`);
    this.log.println();
    this.log.println(`*** WARNING: Service ${s.display} probably didn't start properly.`);
    this.log.println();
    this.log.println('Health check error:');
    this.log.println(result.error);
    this.log.println();
    this.log.println('Service container logs:');
    for (const line of logs.trimEnd().split('\n')) this.log.println(line);
    this.log.println();
    this.log.println('*********');
  }
}

function pickAddress(ips: Record<string, string>, networkMode: string): string | undefined {
  return ips[networkMode] ?? ips.bridge ?? Object.values(ips)[0];
}
