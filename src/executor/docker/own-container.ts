/**
 * OwnContainerFinder: the container berth itself runs in, on the engine it drives (berth in
 * its runner image with the host's Docker socket mounted). Such a berth cannot dial a service
 * on a job's own bridge network, so the service health check joins that network for a while
 * (ServiceManager, ResourceTracker). On the host, or on an engine berth does not run on, there
 * is no own container and nothing changes.
 *
 * The container id comes from /proc/self/mountinfo (Docker bind-mounts /etc/hostname, /etc/hosts
 * and /etc/resolv.conf from /var/lib/docker/containers/<id>/), else from /proc/self/cgroup
 * (cgroup v1: .../docker/<id>), and is confirmed with the engine. Make one finder per process:
 * it asks each engine once.
 */
import { readFile } from 'node:fs/promises';
import type { EngineClient } from '../../engine/engine-client.js';

export interface OwnContainer {
  id: string;
  /** Its HostConfig.NetworkMode ("host" and "container:<id>" cannot join a network). */
  networkMode: string;
}

const MAX_CANDIDATES = 3;

export class OwnContainerFinder {
  private candidates: Promise<string[]> | null = null;
  private readonly found = new WeakMap<EngineClient, Promise<OwnContainer | null>>();

  constructor(private readonly readProcFile: (path: string) => Promise<string> = (path) => readFile(path, 'utf8')) {}

  /** Resolves with berth's own container on `engine`, or null; an engine error is not remembered. */
  find(engine: EngineClient): Promise<OwnContainer | null> {
    const known = this.found.get(engine);
    if (known) return known;
    const finding = this.confirm(engine).catch(() => {
      this.found.delete(engine);
      return null;
    });
    this.found.set(engine, finding);
    return finding;
  }

  private async confirm(engine: EngineClient): Promise<OwnContainer | null> {
    this.candidates ??= Promise.all([
      this.readProcFile('/proc/self/mountinfo').catch(() => ''),
      this.readProcFile('/proc/self/cgroup').catch(() => ''),
    ]).then(([mountinfo, cgroup]) => containerIdCandidates(mountinfo, cgroup));
    for (const id of (await this.candidates).slice(0, MAX_CANDIDATES)) {
      const info = await engine.inspectContainer(id);
      if (info?.id === id) return { id, networkMode: info.networkMode };
    }
    return null;
  }
}

/** Whether a container in this network mode can be connected to another network. */
export function canJoinNetworks(own: OwnContainer): boolean {
  const mode = own.networkMode;
  return mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');
}

/** Container ids this process may run in, most likely first (no duplicates). */
export function containerIdCandidates(mountinfo: string, cgroup: string): string[] {
  const fromEtc: string[] = [];
  const fromOtherMounts: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const id = /containers\/([0-9a-f]{64})\//.exec(fields[3] ?? '')?.[1];
    if (!id) continue;
    const target = fields[4] ?? '';
    // On a host whose mounts are shared with the engine's, every running container's files show
    // up mounted into its root file system (…/overlay2/<layer>/merged/etc/hostname): those are
    // other containers, not this process's.
    if (/\/merged\/|\/containers\/[0-9a-f]{64}\//.test(target)) continue;
    (['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'].includes(target) ? fromEtc : fromOtherMounts).push(id);
  }
  const fromCgroup = cgroup
    .split('\n')
    .map((line) => /(?:docker[/-]|\/)([0-9a-f]{64})(?:\.scope)?$/.exec(line.trim())?.[1])
    .filter((id): id is string => Boolean(id));
  return [...new Set([...fromEtc, ...fromCgroup, ...fromOtherMounts])];
}
