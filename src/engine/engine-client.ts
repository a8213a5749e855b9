/**
 * EngineClient: the narrow Docker Engine API berth needs, with our own types.
 * `DockerodeEngine` is the only implementation that talks to a real engine; nothing else in
 * berth imports dockerode. Every call takes an optional AbortSignal.
 */
import type { Readable, Writable } from 'node:stream';

export type Labels = Record<string, string>;

export interface ImageInfo {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  os: string;
  architecture: string;
  config: {
    entrypoint: string[] | null;
    cmd: string[] | null;
    env: string[];
    user: string;
    exposedPorts: string[];
    labels: Labels;
  };
}

export interface PullProgressEvent {
  id?: string;
  status?: string;
  progress?: string;
  error?: string;
}

export interface PullOptions {
  /** base64url JSON AuthConfig, sent as X-Registry-Auth. Never logged. */
  registryAuth?: string;
  platform?: string;
  signal?: AbortSignal;
  onProgress?: (event: PullProgressEvent) => void;
}

export interface Mount {
  type: 'volume' | 'bind' | 'tmpfs';
  source: string;
  target: string;
  readOnly?: boolean;
  /**
   * A volume mount: the labels the engine gives the named volume if it creates it for this
   * container (no volume by that name yet), as `docker volume create --label` would.
   */
  labels?: Labels;
}

export interface ContainerSpec {
  name: string;
  image: string;
  cmd?: string[];
  /** undefined: the image's ENTRYPOINT; [""] clears it. */
  entrypoint?: string[];
  env?: string[];
  labels?: Labels;
  user?: string;
  workingDir?: string;
  hostname?: string;
  openStdin?: boolean;
  mounts?: Mount[];
  binds?: string[];
  networkMode?: string;
  /** Aliases on networkMode when it is a user-defined network. */
  networkAliases?: string[];
  extraHosts?: string[];
  privileged?: boolean;
  platform?: string;
  /** Extra HostConfig fields in Engine API spelling (memory, capAdd, ...). */
  hostConfig?: Record<string, unknown>;
}

export interface ContainerState {
  status: string;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  error: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  state: ContainerState;
  /** Network name → IP address. */
  ipAddresses: Record<string, string>;
  /** HostConfig.NetworkMode: "default", "bridge", "host", "none", "container:<id>" or a network name. */
  networkMode: string;
  labels: Labels;
}

/** An attached container: stdin to write the script to, stdout/stderr already demultiplexed. */
export interface Attachment {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the output has ended and both streams delivered it (consume both). */
  ended: Promise<void>;
  /** Closes the connection at once. */
  destroy(): void;
}

export interface ListedObject {
  id: string;
  name: string;
  labels: Labels;
}

export interface EngineClient {
  /** The engine's address (unix:///path, tcp://host:port), credentials left out; undefined when unknown. */
  readonly endpoint?: string;
  ping(signal?: AbortSignal): Promise<void>;
  info(signal?: AbortSignal): Promise<{ serverVersion: string; apiVersion: string; os: string; id: string }>;

  /** Null when the engine has no such image, or with `missing: 'throw'` the engine's 404 EngineError (its own words). */
  inspectImage(ref: string, signal?: AbortSignal, opts?: { missing?: 'null' | 'throw' }): Promise<ImageInfo | null>;
  /** Pulls `ref`; rejects with an EngineError when the progress stream carries an error event. */
  pullImage(ref: string, opts?: PullOptions): Promise<void>;

  createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string>;
  attachContainer(id: string, signal?: AbortSignal): Promise<Attachment>;
  startContainer(id: string, signal?: AbortSignal): Promise<void>;
  /** Waits for the container to stop; returns its exit code. */
  waitContainer(id: string, signal?: AbortSignal): Promise<number>;
  stopContainer(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void>;
  killContainer(id: string, signalName?: string, signal?: AbortSignal): Promise<void>;
  removeContainer(id: string, opts?: { force?: boolean; volumes?: boolean }, signal?: AbortSignal): Promise<void>;
  inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInfo | null>;
  /** The last `tailBytes` of the container's combined output (timestamps included). */
  containerLogs(id: string, tailBytes: number, signal?: AbortSignal): Promise<string>;
  /**
   * Follows the container's output (stdout and stderr, with the engine's timestamps) from its
   * start: `onOutput` gets each piece the engine sends (a frame: usually one line). Resolves once
   * the output ends (the container stopped or was removed) or `signal` aborts; rejects when the
   * logs cannot be opened.
   */
  followContainerLogs(id: string, onOutput: (piece: Buffer) => void, signal: AbortSignal): Promise<void>;
  /** Runs `cmd` in a running container (output discarded); resolves with its exit code. */
  execInContainer(id: string, cmd: string[], signal?: AbortSignal): Promise<number>;
  /** Extracts a tar stream at `path` inside the container (created or running). */
  putArchive(id: string, path: string, tar: Readable, signal?: AbortSignal): Promise<void>;
  /**
   * A tar stream of `path` inside the container (created, running or stopped), its entries
   * named from the base name of `path` on; null when `path` does not exist there.
   */
  getArchive(id: string, path: string, signal?: AbortSignal): Promise<Readable | null>;

  createNetwork(name: string, labels: Labels, options?: { mtu?: number; enableIpv6?: boolean }, signal?: AbortSignal): Promise<string>;
  removeNetwork(id: string, signal?: AbortSignal): Promise<void>;
  /** Connects a running container to a network (by name or id). */
  connectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void>;
  /** Disconnects a container from a network (forced); done when either is gone or they are not connected. */
  disconnectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void>;
  createVolume(name: string, labels: Labels, signal?: AbortSignal): Promise<string>;
  /** Done when the volume is gone: one that does not exist is no error. */
  removeVolume(name: string, signal?: AbortSignal): Promise<void>;
  /** Where a volume of the `local` driver keeps its files on the engine's host; null for other drivers. */
  volumeMountpoint(name: string, signal?: AbortSignal): Promise<string | null>;

  listContainers(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]>;
  /** Every container (any owner) attached to a network: what blocks its removal. */
  listContainersOnNetwork(networkId: string, signal?: AbortSignal): Promise<ListedObject[]>;
  listNetworks(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]>;
  listVolumes(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]>;
}
