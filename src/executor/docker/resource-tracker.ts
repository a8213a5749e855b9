/**
 * ResourceTracker: creates a job's containers, networks and volumes and remembers each one,
 * so that cleanup removes exactly them: containers first (with their anonymous volumes) while
 * disconnecting what it connected to the job's networks (berth's own container), then networks,
 * then volumes. If a create call failed or was cut off (the object may exist without
 * us knowing its id), cleanup also sweeps by the job's label. Cleanup never uses the job's
 * signal: it has its own deadline, and runs after success, failure, timeout and cancel alike.
 */
import type { ContainerSpec, EngineClient, Labels } from '../../engine/engine-client.js';
import { errorMessage } from '../../shared/errors.js';

export const CLEANUP_TIMEOUT_MS = 5 * 60_000;

export class ResourceTracker {
  private readonly containers = new Set<string>();
  private readonly networks = new Set<string>();
  private readonly volumes = new Set<string>();
  /** Connections of containers that are not the job's (network and container, by id or name). */
  private readonly connections = new Map<string, { network: string; container: string }>();
  private uncertain = false;

  constructor(
    private readonly engine: EngineClient,
    private readonly jobFilter: string,
  ) {}

  async createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string> {
    return this.track(this.containers, () => this.engine.createContainer(spec, signal));
  }

  async createNetwork(name: string, labels: Labels, options: { mtu?: number; enableIpv6?: boolean }, signal?: AbortSignal): Promise<string> {
    return this.track(this.networks, () => this.engine.createNetwork(name, labels, options, signal));
  }

  async createVolume(name: string, labels: Labels, signal?: AbortSignal): Promise<string> {
    return this.track(this.volumes, () => this.engine.createVolume(name, labels, signal));
  }

  /** Connects a container that outlives the job to one of its networks; cleanup disconnects it. */
  async connectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void> {
    // Remembered first: a connect call cut off by the signal may still have connected it.
    this.connections.set(`${network}\n${container}`, { network, container });
    await this.engine.connectNetwork(network, container, signal);
  }

  /** Disconnects it again (forgotten only once the engine confirmed it). */
  async disconnectNetwork(network: string, container: string): Promise<void> {
    await this.engine.disconnectNetwork(network, container, AbortSignal.timeout(CLEANUP_TIMEOUT_MS));
    this.connections.delete(`${network}\n${container}`);
  }

  /** Removes everything; returns one message per object that could not be removed. */
  async cleanup(): Promise<string[]> {
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${errorMessage(err)}`);
      }
    };
    if (this.uncertain) {
      const [cs, ns, vs] = await Promise.all([
        this.engine.listContainers([this.jobFilter], signal).catch(() => []),
        this.engine.listNetworks([this.jobFilter], signal).catch(() => []),
        this.engine.listVolumes([this.jobFilter], signal).catch(() => []),
      ]);
      cs.forEach((c) => this.containers.add(c.id));
      ns.forEach((n) => this.networks.add(n.id));
      vs.forEach((v) => this.volumes.add(v.name));
    }
    await Promise.all([
      ...[...this.containers].map((id) =>
        attempt(`container ${id.slice(0, 12)}`, () => this.engine.removeContainer(id, { force: true, volumes: true }, signal)),
      ),
      ...[...this.connections.values()].map(({ network, container }) =>
        attempt(`container ${container.slice(0, 12)} on network ${network}`, () => this.engine.disconnectNetwork(network, container, signal)),
      ),
    ]);
    await Promise.all(
      [...this.networks].map((id) => attempt(`network ${id.slice(0, 12)}`, () => this.engine.removeNetwork(id, signal))),
    );
    await Promise.all(
      [...this.volumes].map((name) => attempt(`volume ${name}`, () => this.engine.removeVolume(name, signal))),
    );
    this.containers.clear();
    this.networks.clear();
    this.volumes.clear();
    this.connections.clear();
    this.uncertain = false;
    return problems;
  }

  private async track(set: Set<string>, create: () => Promise<string>): Promise<string> {
    try {
      const id = await create();
      set.add(id);
      return id;
    } catch (err) {
      this.uncertain = true;
      throw err;
    }
  }
}
