/** The Engine API's JSON shapes berth sends and reads, and their conversion to berth's types. */
import type { ContainerSpec, ImageInfo, Labels } from './engine-client.js';

export function containerCreateBody(spec: ContainerSpec): Record<string, unknown> {
  const networkingConfig =
    spec.networkMode && spec.networkAliases?.length
      ? { EndpointsConfig: { [spec.networkMode]: { Aliases: spec.networkAliases } } }
      : undefined;
  return {
    Image: spec.image,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: spec.env ?? [],
    Labels: spec.labels ?? {},
    User: spec.user ?? '',
    WorkingDir: spec.workingDir ?? '',
    Hostname: spec.hostname,
    AttachStdin: spec.openStdin ?? false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: spec.openStdin ?? false,
    StdinOnce: spec.openStdin ?? false,
    Tty: false,
    HostConfig: {
      Mounts: (spec.mounts ?? []).map((m) => ({
        Type: m.type,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly ?? false,
        ...(m.type === 'volume' && m.labels ? { VolumeOptions: { Labels: m.labels } } : {}),
      })),
      Binds: spec.binds ?? [],
      NetworkMode: spec.networkMode,
      ExtraHosts: spec.extraHosts ?? [],
      Privileged: spec.privileged ?? false,
      RestartPolicy: { Name: 'no' },
      ...spec.hostConfig,
    },
    NetworkingConfig: networkingConfig,
  };
}

/** Demultiplexes a non-streamed logs buffer (8-byte frame headers) into one buffer. */
export function demuxBuffer(buf: Buffer): Buffer {
  if (!Buffer.isBuffer(buf)) return Buffer.from(String(buf));
  const parts: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const type = buf[off];
    if (type !== 0 && type !== 1 && type !== 2) return buf; // not multiplexed (TTY)
    const size = buf.readUInt32BE(off + 4);
    parts.push(buf.subarray(off + 8, off + 8 + size));
    off += 8 + size;
  }
  return Buffer.concat(parts);
}

export interface RawImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Os?: string;
  Architecture?: string;
  Config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    User?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Labels?: Labels | null;
  } | null;
}

export interface RawContainer {
  Id: string;
  Name?: string;
  State?: { Status?: string; Running?: boolean; ExitCode?: number; OOMKilled?: boolean; Error?: string };
  Config?: { Labels?: Labels };
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string } | undefined> };
}

export function toImageInfo(raw: RawImage): ImageInfo {
  const c = raw.Config ?? {};
  return {
    id: raw.Id,
    repoTags: raw.RepoTags ?? [],
    repoDigests: raw.RepoDigests ?? [],
    os: raw.Os ?? '',
    architecture: raw.Architecture ?? '',
    config: {
      entrypoint: c.Entrypoint ?? null,
      cmd: c.Cmd ?? null,
      env: c.Env ?? [],
      user: c.User ?? '',
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      labels: c.Labels ?? {},
    },
  };
}
