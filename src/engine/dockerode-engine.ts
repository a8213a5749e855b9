/**
 * DockerodeEngine: EngineClient over the Docker Engine API, through dockerode.
 * The only module of berth that imports dockerode.
 */
import Docker from 'dockerode';
import { once } from 'node:events';
import { PassThrough, Writable, type Readable } from 'node:stream';
import type {
  Attachment,
  ContainerInfo,
  ContainerSpec,
  EngineClient,
  ImageInfo,
  Labels,
  ListedObject,
  PullOptions,
} from './engine-client.js';
import { EngineError, toEngineError } from './engine-error.js';
import { readPullStream } from './pull-stream.js';
import { connectionOptions, engineEndpoint, type EngineConnection } from './engine-connection.js';
import { containerCreateBody, demuxBuffer, toImageInfo, type RawContainer, type RawImage } from './engine-wire.js';
import { sleep } from '../shared/abort.js';
import { chunkRelease } from '../shared/chunk-release.js';
import { ReleasingBody } from './releasing-body.js';

/** How often a wait for a container checks it by inspecting it (see waitContainer). */
const WAIT_CHECK_MS = 5_000;

export class DockerodeEngine implements EngineClient {
  /** The engine's address for messages (never a certificate or key). */
  readonly endpoint: string;
  private client: Docker | null = null;

  constructor(
    private readonly conn: EngineConnection = {},
    /** `waitCheckMs`: how often a wait inspects its container (tests; default 5 s). */
    private readonly tuning: { waitCheckMs?: number } = {},
  ) {
    this.endpoint = engineEndpoint(conn);
  }

  /**
   * The dockerode client, made on first use: a TLS file that cannot be read fails the call that
   * needs the engine (an EngineError naming the endpoint and the file), not the process, and is
   * read again by the next call.
   */
  private get docker(): Docker {
    this.client ??= new Docker(connectionOptions(this.conn));
    return this.client;
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return call(operation, fn, this.endpoint);
  }

  /** dockerode's typings omit the options argument (abortSignal) of these calls. */
  private get loose(): {
    ping(o: object): Promise<unknown>;
    info(o: object): Promise<Record<string, unknown>>;
    version(o: object): Promise<Record<string, unknown>>;
  } {
    return this.docker as unknown as DockerodeEngine['loose'];
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.call('ping', () => this.loose.ping({ abortSignal: signal }));
  }

  async info(signal?: AbortSignal): Promise<{ serverVersion: string; apiVersion: string; os: string; id: string }> {
    const [info, version] = await Promise.all([
      this.call('info', () => this.loose.info({ abortSignal: signal })),
      this.call('version', () => this.loose.version({ abortSignal: signal })),
    ]);
    return {
      serverVersion: text(version.Version),
      apiVersion: text(version.ApiVersion),
      os: text(info.OSType),
      id: text(info.ID),
    };
  }

  async inspectImage(ref: string, signal?: AbortSignal, opts?: { missing?: 'null' | 'throw' }): Promise<ImageInfo | null> {
    try {
      const raw = (await this.docker.getImage(ref).inspect({ abortSignal: signal } as object)) as unknown as RawImage;
      return toImageInfo(raw);
    } catch (err) {
      const e = toEngineError('inspect image', err, this.endpoint);
      if (e instanceof EngineError && e.notFound && opts?.missing !== 'throw') return null;
      throw e;
    }
  }

  async pullImage(ref: string, opts: PullOptions = {}): Promise<void> {
    const query: Record<string, unknown> = { fromImage: ref, abortSignal: opts.signal };
    if (opts.platform) query.platform = opts.platform;
    if (opts.registryAuth) query.authconfig = { base64: opts.registryAuth };
    const stream = (await this.call('pull', () => this.docker.createImage(query))) as Readable;
    await readPullStream(stream, ref, opts.onProgress, opts.signal);
  }

  async createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string> {
    // dockerode would also put every body field into the query string (Env included): keep the
    // query to what the API takes there.
    const query: Record<string, string> = { name: spec.name };
    if (spec.platform) query.platform = spec.platform;
    const container = await this.call('create container', () =>
      this.docker.createContainer({ _query: query, _body: containerCreateBody(spec), abortSignal: signal } as unknown as Docker.ContainerCreateOptions),
    );
    return container.id;
  }

  async attachContainer(id: string, signal?: AbortSignal): Promise<Attachment> {
    const raw = (await this.call('attach', () =>
      this.docker.getContainer(id).attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
        abortSignal: signal,
      }),
    )) as unknown as NodeJS.ReadWriteStream & { destroy(): void; end(): void };
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(raw, stdout, stderr);
    // Ended once both demultiplexed streams have delivered their last byte to their consumers.
    const ended = Promise.all([once(stdout, 'end'), once(stderr, 'end')]).then(
      () => undefined,
      () => undefined,
    );
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      stdout.end();
      stderr.end();
    };
    raw.on('end', finish);
    raw.on('close', finish);
    raw.on('error', finish);
    return {
      stdin: raw as unknown as Attachment['stdin'],
      stdout,
      stderr,
      ended,
      destroy: () => raw.destroy(),
    };
  }

  async startContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.call('start container', () => this.docker.getContainer(id).start({ abortSignal: signal } as object));
  }

  /**
   * The engine answers POST /containers/{id}/wait with its headers at once and the body when the
   * container stops; docker-modem never settles a call whose response body is cut short, so a
   * connection lost mid-wait (the engine's host gone, a proxy or firewall dropping it) would hang
   * the job for ever. While it waits, a watchdog inspects the container every
   * `waitCheckMs` on a fresh connection: an engine that no longer answers fails the wait with
   * that call's error (naming the endpoint), a container found stopped ends it with its exit code.
   */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      const wait = this.call('wait container', () => this.docker.getContainer(id).wait({ abortSignal: stop.signal } as object)).then((raw) => {
        const res = raw as { StatusCode?: number; Error?: { Message?: string } | null };
        if (res.Error?.Message) throw new EngineError('wait container', 0, res.Error.Message);
        return res.StatusCode ?? -1;
      });
      return await Promise.race([wait, this.watchWait(id, stop.signal)]);
    } finally {
      // Ends the watchdog, and a wait request whose connection is lost.
      stop.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async watchWait(id: string, signal: AbortSignal): Promise<number> {
    for (;;) {
      await sleep(this.tuning.waitCheckMs ?? WAIT_CHECK_MS, signal);
      const info = await this.inspectContainer(id, signal);
      if (!info) throw new EngineError('wait container', 404, `Container ${id} is gone from the Docker engine at ${this.endpoint}: it was removed while berth waited for it to stop`);
      if (!info.state.running && (info.state.status === 'exited' || info.state.status === 'dead')) return info.state.exitCode;
    }
  }

  async stopContainer(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('stop container', () =>
        this.docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal: signal } as object),
      );
    } catch (err) {
      // 304: already stopped.
      if (err instanceof EngineError && (err.statusCode === 304 || err.notFound)) return;
      throw err;
    }
  }

  async killContainer(id: string, signalName = 'SIGKILL', signal?: AbortSignal): Promise<void> {
    try {
      await this.call('kill container', () =>
        this.docker.getContainer(id).kill({ signal: signalName, abortSignal: signal } as object),
      );
    } catch (err) {
      if (err instanceof EngineError && (err.notFound || err.conflict)) return;
      throw err;
    }
  }

  async removeContainer(id: string, opts: { force?: boolean; volumes?: boolean } = {}, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('remove container', () =>
        this.docker.getContainer(id).remove({ force: opts.force ?? true, v: opts.volumes ?? true, abortSignal: signal } as object),
      );
    } catch (err) {
      if (err instanceof EngineError && err.notFound) return;
      // 409 "removal already in progress" (someone else removes it): wait until it is gone, so
      // that "removed" means removed.
      if (err instanceof EngineError && err.conflict && /already in progress/i.test(err.message)) {
        for (let i = 0; i < 100 && (await this.inspectContainer(id, signal)); i++) await sleep(100, signal);
        return;
      }
      throw err;
    }
  }

  async inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInfo | null> {
    try {
      const raw = (await this.docker.getContainer(id).inspect({ abortSignal: signal } as object)) as unknown as RawContainer;
      const networks = raw.NetworkSettings?.Networks ?? {};
      const ipAddresses: Record<string, string> = {};
      for (const [name, n] of Object.entries(networks)) if (n?.IPAddress) ipAddresses[name] = n.IPAddress;
      return {
        id: raw.Id,
        name: (raw.Name ?? '').replace(/^\//, ''),
        state: {
          status: raw.State?.Status ?? '',
          running: raw.State?.Running ?? false,
          exitCode: raw.State?.ExitCode ?? -1,
          oomKilled: raw.State?.OOMKilled ?? false,
          error: raw.State?.Error ?? '',
        },
        ipAddresses,
        networkMode: raw.HostConfig?.NetworkMode ?? '',
        labels: raw.Config?.Labels ?? {},
      };
    } catch (err) {
      const e = toEngineError('inspect container', err, this.endpoint);
      if (e instanceof EngineError && e.notFound) return null;
      throw e;
    }
  }

  async containerLogs(id: string, tailBytes: number, signal?: AbortSignal): Promise<string> {
    const buf = await this.call('container logs', () =>
      this.docker.getContainer(id).logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        follow: false,
        abortSignal: signal,
      } as Docker.ContainerLogsOptions & { follow: false }),
    );
    const text = demuxBuffer(buf);
    return text.length > tailBytes ? text.subarray(text.length - tailBytes).toString('utf8') : text.toString('utf8');
  }

  async followContainerLogs(id: string, onOutput: (piece: Buffer) => void, signal: AbortSignal): Promise<void> {
    const raw = (await this.call('container logs', () =>
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, timestamps: true, follow: true, abortSignal: signal } as Docker.ContainerLogsOptions & { follow: true }),
    )) as NodeJS.ReadableStream & { destroy(): void };
    // Both streams into one writer, a frame at a time (gitlab-runner: stdcopy.StdCopy(sink, sink, source)).
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        onOutput(chunk);
        callback();
      },
    });
    this.docker.modem.demuxStream(raw, sink, sink);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', stop);
        resolve();
      };
      const stop = (): void => {
        raw.destroy();
        done();
      };
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      raw.on('end', done);
      raw.on('close', done);
      raw.on('error', done);
    });
  }

  async execInContainer(id: string, cmd: string[], signal?: AbortSignal): Promise<number> {
    const exec = await this.call('exec', () =>
      this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, abortSignal: signal }),
    );
    const stream = (await this.call('exec start', () =>
      exec.start({ hijack: true, stdin: false, abortSignal: signal }),
    )) as NodeJS.ReadableStream;
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
      stream.resume();
    });
    const info = (await this.call('exec inspect', () => exec.inspect({ abortSignal: signal } as object))) as { ExitCode?: number | null };
    return info.ExitCode ?? -1;
  }

  async putArchive(id: string, path: string, tar: Readable, signal?: AbortSignal): Promise<void> {
    // A tar whose chunks can be reused (TarByteStream) gets each one back once the socket took it.
    const release = chunkRelease(tar);
    const body = release ? new ReleasingBody(tar, release) : tar;
    await this.call('copy files into container', () =>
      this.docker.getContainer(id).putArchive(body as unknown as NodeJS.ReadableStream, { path, abortSignal: signal }),
    );
  }

  async getArchive(id: string, path: string, signal?: AbortSignal): Promise<Readable | null> {
    try {
      const stream = await this.call('copy files from container', () =>
        this.docker.getContainer(id).getArchive({ path, abortSignal: signal }),
      );
      return stream as unknown as Readable;
    } catch (err) {
      // 404 is either "no such container" (an error) or "no such path" (null).
      if (err instanceof EngineError && err.notFound && !/no such container/i.test(err.message)) return null;
      // A path through a link loop (or a chain of links too long) leads nowhere: dockerd answers 500
      // "evalSymlinksInScope: too many links". gitlab-runner's glob finds nothing there either
      // (its stat fails) and says "no matching files"; it is no reason to fail the job.
      if (err instanceof EngineError && err.statusCode === 500 && /too many links/i.test(err.message)) return null;
      throw err;
    }
  }

  async createNetwork(
    name: string,
    labels: Labels,
    options: { mtu?: number; enableIpv6?: boolean } = {},
    signal?: AbortSignal,
  ): Promise<string> {
    const net = await this.call('create network', () =>
      this.docker.createNetwork({
        _query: {},
        _body: {
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: labels,
          EnableIPv6: options.enableIpv6 ?? false,
          Options: options.mtu ? { 'com.docker.network.driver.mtu': String(options.mtu) } : {},
        },
        abortSignal: signal,
      } as unknown as Docker.NetworkCreateOptions),
    );
    return net.id;
  }

  async removeNetwork(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('remove network', () => this.docker.getNetwork(id).remove({ abortSignal: signal } as object));
    } catch (err) {
      if (err instanceof EngineError && err.notFound) return;
      throw err;
    }
  }

  async connectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void> {
    await this.call('connect network', () =>
      this.docker.getNetwork(network).connect({ Container: container, abortSignal: signal } as object),
    );
  }

  async disconnectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('disconnect network', () =>
        this.docker.getNetwork(network).disconnect({ Container: container, Force: true, abortSignal: signal } as object),
      );
    } catch (err) {
      // The engine answers 500 "container <id> is not connected to (the) network <name>": no status of its own.
      if (err instanceof EngineError && (err.notFound || /is not connected to/i.test(err.message))) return;
      throw err;
    }
  }

  async createVolume(name: string, labels: Labels, signal?: AbortSignal): Promise<string> {
    const vol = (await this.call('create volume', () =>
      this.docker.createVolume({ _query: {}, _body: { Name: name, Labels: labels }, abortSignal: signal } as unknown as Docker.VolumeCreateOptions),
    )) as unknown as { name?: string; Name?: string };
    return vol.Name ?? vol.name ?? name;
  }

  async volumeMountpoint(name: string, signal?: AbortSignal): Promise<string | null> {
    const info = (await this.call('inspect volume', () => this.docker.getVolume(name).inspect({ abortSignal: signal } as object))) as { Driver?: string; Mountpoint?: string };
    return info.Driver === 'local' && info.Mountpoint ? info.Mountpoint : null;
  }

  async removeVolume(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('remove volume', () => this.docker.getVolume(name).remove({ abortSignal: signal } as object));
    } catch (err) {
      if (err instanceof EngineError && err.notFound) return;
      throw err;
    }
  }

  async listContainers(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]> {
    const list = await this.call('list containers', () =>
      this.docker.listContainers({ all: true, filters: { label: labelFilters }, abortSignal: signal } as object),
    );
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), labels: c.Labels ?? {} }));
  }

  async listContainersOnNetwork(networkId: string, signal?: AbortSignal): Promise<ListedObject[]> {
    const list = await this.call('list containers', () =>
      this.docker.listContainers({ all: true, filters: { network: [networkId] }, abortSignal: signal } as object),
    );
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), labels: c.Labels ?? {} }));
  }

  async listNetworks(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]> {
    const list = await this.call('list networks', () =>
      this.docker.listNetworks({ filters: { label: labelFilters }, abortSignal: signal } as object),
    );
    return list.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  }

  async listVolumes(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]> {
    const res = await this.call('list volumes', () =>
      this.docker.listVolumes({ filters: { label: labelFilters }, abortSignal: signal } as object),
    );
    return (res.Volumes ?? []).map((v) => ({ id: v.Name, name: v.Name, labels: v.Labels ?? {} }));
  }
}

async function call<T>(operation: string, fn: () => Promise<T>, endpoint: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toEngineError(operation, err, endpoint);
  }
}

/** A string field of an engine answer, or '' when the engine sent something else. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
