/**
 * ResourceTracker: creates a job's containers, networks and volumes and remembers each one,
 * so that cleanup removes exactly them: containers first (with their anonymous volumes) while
 * disconnecting what it connected to the job's networks (berth's own container), then networks,
 * then volumes. If a create call failed or was cut off (the object may exist without
 * us knowing its id), cleanup also sweeps by the job's label (one sweeper: docker/sweep-labelled). Cleanup never uses the job's
 * signal: it has its own deadline, and runs after success, failure, timeout and cancel alike.
 * Nor does a create call: the job's signal only stops waiting for it. A request cut off on the
 * way may still be carried out by the engine after a sweep by label found nothing; left to
 * finish (within its own deadline), its answer names the object and cleanup removes it.
 */
import type { ContainerSpec, EngineClient, Labels } from '../../engine/engine-client.js';
import { formatSweepFailure, sweepLabelled } from '../../engine/sweep-labelled.js';
import { abortReason, untilAborted } from '../../shared/abort.js';

export const CLEANUP_TIMEOUT_MS = 5 * 60_000;
/** How long a create call may take, whatever the job's signal says (see the file comment). */
const CREATE_TIMEOUT_MS = 2 * 60_000;

export class ResourceTracker {
  private readonly containers = new Set<string>();
  private readonly networks = new Set<string>();
  private readonly volumes = new Set<string>();
  /** Connections of containers that are not the job's (network and container, by id or name). */
  private readonly connections = new Map<string, { network: string; container: string }>();
  private uncertain = false;
  /** Create calls not answered yet: cleanup waits for them, or it would miss what they make. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly engine: EngineClient,
    private readonly jobFilter: string,
  ) {}

  async createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string> {
    return this.track(this.containers, (own) => this.engine.createContainer(spec, own), signal);
  }

  async createNetwork(name: string, labels: Labels, options: { mtu?: number; enableIpv6?: boolean }, signal?: AbortSignal): Promise<string> {
    return this.track(this.networks, (own) => this.engine.createNetwork(name, labels, options, own), signal);
  }

  /**
   * A named volume the engine makes when the first container that mounts it is created (its
   * labels in the Mount): remembered now, so that cleanup removes it whether or not that create
   * call got so far. One engine call less on every job's way to its container.
   */
  volumeMadeByMount(name: string): string {
    this.volumes.add(name);
    return name;
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

  /** Removes everything; returns one message per object that could not be listed or removed. */
  async cleanup(): Promise<string[]> {
    // A prepare step that failed while another was still creating (a pull failed while the
    // builds volume was being made): wait for that answer, so the object is known or swept.
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((resolve) => (timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS)));
      await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
      clearTimeout(timer);
    }
    const report = await sweepLabelled(this.engine, {
      filters: this.uncertain ? [this.jobFilter] : [],
      known: { containers: this.containers, networks: this.networks, volumes: this.volumes },
      detach: this.connections.values(),
      detachAll: false,
      signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS),
    });
    this.containers.clear();
    this.networks.clear();
    this.volumes.clear();
    this.connections.clear();
    this.uncertain = false;
    return report.failed.map(formatSweepFailure);
  }

  /** The create call runs to its end on its own deadline; `signal` only stops the caller's wait. */
  private async track(set: Set<string>, create: (own: AbortSignal) => Promise<string>, signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) throw abortReason(signal);
    const call = create(AbortSignal.timeout(CREATE_TIMEOUT_MS)).then(
      (id) => {
        set.add(id);
        return id;
      },
      (err: unknown) => {
        this.uncertain = true;
        throw err;
      },
    );
    this.inFlight.add(call);
    void call.then(
      () => this.inFlight.delete(call),
      () => this.inFlight.delete(call),
    );
    const id = await untilAborted(call, signal);
    if (signal?.aborted) throw abortReason(signal);
    return id;
  }
}

