/**
 * FakeEngine: the one in-memory EngineClient for unit tests. It keeps images, containers,
 * networks and volumes with their labels, answers with the engine's HTTP statuses (404 for a
 * missing object, 409 for removing a running container without force or a network with
 * containers on it), records every call, and lets a test script failures, waits and what a
 * container does when started:
 *
 *   const engine = new FakeEngine();
 *   engine.addImage('alpine:3');
 *   engine.onRun = async (run) => { run.stdout('hi\n'); return 0; };   // the container's "process"
 *   engine.fail('removeNetwork', new EngineError('removeNetwork', 500, 'boom'));  // next call only
 *   const gate = engine.hold('startContainer');  // calls wait until gate.release() (or their signal)
 *   await engine.leftovers('berth.test.run=x');   // what still carries a label
 *
 * A stop (SIGTERM via the kill script exec, docker stop or kill) aborts `run.terminated`; a
 * container whose run ignores it is stopped by `stopContainer`/`killContainer` with 143/137.
 */
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { EngineError } from '../../src/engine/engine-error.js';
import type {
  Attachment,
  ContainerInfo,
  ContainerSpec,
  EngineClient,
  ImageInfo,
  Labels,
  ListedObject,
  PullOptions,
} from '../../src/engine/engine-client.js';
import { abortReason } from '../../src/shared/abort.js';
import type { Leftovers } from './leftovers.js';

export type EngineOperation = keyof EngineClient;

export interface EngineCall {
  op: EngineOperation;
  args: unknown[];
}

/** What a started container sees: its stdin (the script), output functions, and a stop signal. */
export interface ContainerRun {
  container: FakeContainer;
  /** Everything written to stdin before it ended. */
  stdin: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Ends stdout and stderr before the process exits (as output ends before the engine reports the stop). */
  endOutput(): void;
  /** Aborts on SIGTERM (kill script, stop) or kill. */
  terminated: AbortSignal;
}

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  labels: Labels;
  running: boolean;
  exitCode: number;
  /** How many times it was started. */
  starts: number;
  networks: Set<string>;
  networkMode: string;
  /** Output so far (stdout and stderr, in order). */
  output: string;
  /** Paths given to putArchive, with the number of bytes. */
  archives: { path: string; bytes: number }[];
  /** The container's files as putArchive extracted them: absolute path → entry. */
  files: Map<string, FakeFile>;
}

/** A file, folder or link in a fake container. */
export interface FakeFile {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  content: Buffer;
  linkname: string;
}

interface FakeNetwork {
  id: string;
  name: string;
  labels: Labels;
}

interface Gate {
  released: Promise<void>;
  release(): void;
}

interface Failure {
  error: Error | ((args: unknown[]) => Error | null);
  times: number;
}

interface Running {
  out: PassThrough;
  err: PassThrough;
  term: AbortController;
  exited: Promise<void>;
  finish(code: number): void;
}

export class FakeEngine implements EngineClient {
  readonly calls: EngineCall[] = [];
  readonly images = new Map<string, ImageInfo>();
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, FakeNetwork>();
  readonly volumes = new Map<string, { name: string; labels: Labels }>();
  /** What a started container does; resolves with its exit code. Default: exits 0 silently. */
  onRun: (run: ContainerRun) => Promise<number> | number = () => 0;
  /** What a pull does: the image it brings, or an error to throw. Default: a fresh image. */
  onPull: (ref: string, opts: PullOptions) => ImageInfo | Error = (ref) => fakeImage(ref);
  /** What execInContainer does; default: a SIGTERM to the container's run, exit 0. */
  onExec: (container: FakeContainer, cmd: string[]) => number = (c) => {
    this.running.get(c.id)?.term.abort('SIGTERM');
    return 0;
  };

  private readonly failures = new Map<EngineOperation, Failure[]>();
  private readonly gates = new Map<EngineOperation, Gate>();
  private readonly attachments = new Map<string, { out: PassThrough; err: PassThrough; stdin: PassThrough; ended: Promise<void> }>();
  private readonly running = new Map<string, Running>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private next = 0;

  /** The next `times` calls of `op` throw `error` (a function may pick calls by their arguments). */
  fail(op: EngineOperation, error: Error | ((args: unknown[]) => Error | null), times = 1): void {
    const list = this.failures.get(op) ?? [];
    list.push({ error, times });
    this.failures.set(op, list);
  }

  /** Calls of `op` wait until the returned gate is released (or their signal aborts). */
  hold(op: EngineOperation): { release(): void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const gate = {
      released,
      release: () => {
        this.gates.delete(op);
        release();
      },
    };
    this.gates.set(op, gate);
    return gate;
  }

  /** Names of the calls so far (optionally of one operation). */
  callsOf(op: EngineOperation): unknown[][] {
    return this.calls.filter((c) => c.op === op).map((c) => c.args);
  }

  addImage(ref: string, over: Partial<ImageInfo> = {}): ImageInfo {
    const info = { ...fakeImage(ref), ...over };
    this.images.set(ref, info);
    return info;
  }

  /** A container that exists already (e.g. berth's own, or someone else's). */
  addContainer(over: Partial<FakeContainer> & { id: string }): FakeContainer {
    const c: FakeContainer = {
      name: over.id,
      spec: { name: over.id, image: 'fake' },
      labels: {},
      running: true,
      exitCode: 0,
      starts: 1,
      networks: new Set(),
      networkMode: 'default',
      output: '',
      archives: [],
      files: new Map(),
      ...over,
    };
    this.containers.set(c.id, c);
    return c;
  }

  /** Objects that still carry `filter` ("key=value" or "key"), by name. */
  leftovers(filter: string): Leftovers {
    return {
      containers: this.matching(this.containers.values(), [filter]).map((c) => c.name),
      networks: this.matching(this.networks.values(), [filter]).map((n) => n.name),
      volumes: this.matching(this.volumes.values(), [filter]).map((v) => v.name),
    };
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.enter('ping', [], signal);
  }

  async info(signal?: AbortSignal): Promise<{ serverVersion: string; apiVersion: string; os: string; id: string }> {
    await this.enter('info', [], signal);
    return { serverVersion: '27.0.0-fake', apiVersion: '1.46', os: 'linux', id: 'FAKE:ENGINE' };
  }

  async inspectImage(ref: string, signal?: AbortSignal, opts?: { missing?: 'null' | 'throw' }): Promise<ImageInfo | null> {
    await this.enter('inspectImage', [ref], signal);
    const found = this.images.get(ref) ?? [...this.images.values()].find((i) => i.id === ref) ?? null;
    // Worded as recent dockerd words it (20.10 says "no such image: <ref>: No such image: <ref>").
    if (!found && opts?.missing === 'throw') throw new EngineError('inspect image', 404, `No such image: ${ref}`);
    return found;
  }

  async pullImage(ref: string, opts: PullOptions = {}): Promise<void> {
    await this.enter('pullImage', [ref, opts], opts.signal);
    opts.onProgress?.({ id: 'layer1', status: 'Pulling fs layer' });
    const got = this.onPull(ref, opts);
    if (got instanceof Error) throw got;
    this.images.set(ref, got);
  }

  async createContainer(spec: ContainerSpec, signal?: AbortSignal): Promise<string> {
    await this.enter('createContainer', [spec], signal);
    if (!this.images.has(spec.image) && ![...this.images.values()].some((i) => i.id === spec.image)) {
      throw new EngineError('createContainer', 404, `No such image: ${spec.image}`);
    }
    if ([...this.containers.values()].some((c) => c.name === spec.name)) {
      throw new EngineError('createContainer', 409, `Conflict. The container name "/${spec.name}" is already in use`);
    }
    const id = this.newId('c');
    const networks = new Set<string>();
    const mode = spec.networkMode ?? 'default';
    const net = this.findNetwork(mode);
    if (net) networks.add(net.id);
    this.containers.set(id, {
      id,
      name: spec.name,
      spec,
      labels: { ...spec.labels },
      running: false,
      exitCode: 0,
      starts: 0,
      networks,
      networkMode: mode,
      output: '',
      archives: [],
      files: new Map(),
    });
    return id;
  }

  async attachContainer(id: string, signal?: AbortSignal): Promise<Attachment> {
    await this.enter('attachContainer', [id], signal);
    this.container('attachContainer', id);
    const out = new PassThrough();
    const err = new PassThrough();
    const stdin = new PassThrough();
    const ended = Promise.all([streamEnd(out), streamEnd(err)]).then(() => undefined);
    this.attachments.set(id, { out, err, stdin, ended });
    return {
      stdin,
      stdout: out,
      stderr: err,
      ended,
      destroy: () => {
        out.destroy();
        err.destroy();
        stdin.destroy();
      },
    };
  }

  async startContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.enter('startContainer', [id], signal);
    const c = this.container('startContainer', id);
    if (c.running) return;
    c.running = true;
    c.starts++;
    const attached = this.attachments.get(id);
    this.attachments.delete(id);
    const out = attached?.out ?? new PassThrough();
    const err = attached?.err ?? new PassThrough();
    const term = new AbortController();
    let finish!: (code: number) => void;
    const exited = new Promise<void>((resolve) => {
      finish = (code: number): void => {
        if (!c.running || this.running.get(id)?.term !== term) return;
        c.running = false;
        c.exitCode = code;
        this.running.delete(id);
        out.end();
        err.end();
        for (const w of this.waiters.get(id)?.splice(0) ?? []) w();
        resolve();
      };
    });
    this.running.set(id, { out, err, term, exited, finish });
    const stdin = attached ? readAll(attached.stdin) : Promise.resolve('');
    void stdin
      .then((text) =>
        this.onRun({
          container: c,
          stdin: text,
          stdout: (t) => write(c, out, t),
          stderr: (t) => write(c, err, t),
          endOutput: () => {
            out.end();
            err.end();
          },
          terminated: term.signal,
        }),
      )
      .then(
        (code) => finish(code),
        () => finish(1),
      );
  }

  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    await this.enter('waitContainer', [id], signal);
    const c = this.container('waitContainer', id);
    if (c.running) {
      await new Promise<void>((resolve, reject) => {
        const list = this.waiters.get(id) ?? [];
        list.push(resolve);
        this.waiters.set(id, list);
        signal?.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
      });
    }
    return c.exitCode;
  }

  async stopContainer(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
    await this.enter('stopContainer', [id, timeoutSeconds], signal);
    this.container('stopContainer', id);
    const r = this.running.get(id);
    if (!r) return;
    r.term.abort('SIGTERM');
    await Promise.resolve();
    r.finish(143);
  }

  async killContainer(id: string, signalName = 'SIGKILL', signal?: AbortSignal): Promise<void> {
    await this.enter('killContainer', [id, signalName], signal);
    this.container('killContainer', id);
    const r = this.running.get(id);
    if (!r) throw new EngineError('killContainer', 409, `Container ${id} is not running`);
    r.term.abort(signalName);
    r.finish(137);
  }

  async removeContainer(id: string, opts: { force?: boolean; volumes?: boolean } = {}, signal?: AbortSignal): Promise<void> {
    await this.enter('removeContainer', [id, opts], signal);
    // As DockerodeEngine: a container that is not there (removed already) is no error.
    const c = this.findContainer(id);
    if (!c) return;
    if (c.running && !opts.force) {
      throw new EngineError('removeContainer', 409, `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
    }
    this.running.get(c.id)?.finish(137);
    this.containers.delete(c.id);
  }

  async inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInfo | null> {
    await this.enter('inspectContainer', [id], signal);
    const c = this.findContainer(id);
    if (!c) return null;
    const ipAddresses: Record<string, string> = {};
    let n = 2;
    for (const net of c.networks) ipAddresses[this.networks.get(net)?.name ?? net] = `172.18.0.${n++}`;
    return {
      id: c.id,
      name: c.name,
      state: { status: c.running ? 'running' : 'exited', running: c.running, exitCode: c.exitCode, oomKilled: false, error: '' },
      ipAddresses,
      networkMode: c.networkMode,
      labels: { ...c.labels },
    };
  }

  async containerLogs(id: string, tailBytes: number, signal?: AbortSignal): Promise<string> {
    await this.enter('containerLogs', [id, tailBytes], signal);
    return this.container('containerLogs', id).output.slice(-tailBytes);
  }

  /** The container's output so far, then nothing more (the fake does not follow). */
  async followContainerLogs(id: string, onOutput: (piece: Buffer) => void, signal: AbortSignal): Promise<void> {
    await this.enter('followContainerLogs', [id], signal);
    const output = this.container('followContainerLogs', id).output;
    if (output) onOutput(Buffer.from(output));
  }

  async execInContainer(id: string, cmd: string[], signal?: AbortSignal): Promise<number> {
    await this.enter('execInContainer', [id, cmd], signal);
    const c = this.container('execInContainer', id);
    if (!c.running) throw new EngineError('execInContainer', 409, `Container ${id} is not running`);
    return this.onExec(c, cmd);
  }

  async putArchive(id: string, path: string, tar: Readable, signal?: AbortSignal): Promise<void> {
    await this.enter('putArchive', [id, path], signal);
    const c = this.container('putArchive', id);
    let bytes = 0;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => (bytes += chunk.length));
    tar.pipe(counted);
    const ex = extract();
    counted.pipe(ex);
    for await (const entry of ex) {
      const h = entry.header;
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const name = posix.join(path, h.name).replace(/\/$/, '');
      const type = h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : 'file';
      c.files.set(name, { type, mode: h.mode ?? 0o644, content: Buffer.concat(chunks), linkname: h.linkname ?? '' });
    }
    c.archives.push({ path, bytes });
  }

  async getArchive(id: string, path: string, signal?: AbortSignal): Promise<Readable | null> {
    await this.enter('getArchive', [id, path], signal);
    const c = this.container('getArchive', id);
    const root = path.replace(/\/+$/, '') || '/';
    const names = [...c.files.keys()].filter((n) => n === root || n.startsWith(`${root}/`)).sort();
    if (names.length === 0) return null;
    const base = posix.dirname(root);
    const tar = pack();
    for (const name of names) {
      const f = c.files.get(name)!;
      const rel = posix.relative(base, name);
      if (f.type === 'directory') tar.entry({ name: `${rel}/`, type: 'directory', mode: f.mode });
      else if (f.type === 'symlink') tar.entry({ name: rel, type: 'symlink', linkname: f.linkname, mode: f.mode });
      else tar.entry({ name: rel, type: 'file', mode: f.mode, size: f.content.length }, f.content);
    }
    tar.finalize();
    return tar as unknown as Readable;
  }

  async createNetwork(name: string, labels: Labels, options: { mtu?: number; enableIpv6?: boolean } = {}, signal?: AbortSignal): Promise<string> {
    await this.enter('createNetwork', [name, labels, options], signal);
    const id = this.newId('n');
    this.networks.set(id, { id, name, labels: { ...labels } });
    return id;
  }

  async removeNetwork(id: string, signal?: AbortSignal): Promise<void> {
    await this.enter('removeNetwork', [id], signal);
    const n = this.findNetwork(id);
    if (!n) return; // as DockerodeEngine: a network that is not there is no error
    if (this.attachedTo(n.id).length) throw new EngineError('removeNetwork', 409, `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    this.networks.delete(n.id);
  }

  async connectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void> {
    await this.enter('connectNetwork', [network, container], signal);
    const n = this.findNetwork(network);
    if (!n) throw new EngineError('connectNetwork', 404, `network ${network} not found`);
    this.container('connectNetwork', container).networks.add(n.id);
  }

  async disconnectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void> {
    await this.enter('disconnectNetwork', [network, container], signal);
    const n = this.findNetwork(network);
    const c = this.findContainer(container);
    if (n && c) c.networks.delete(n.id);
  }

  async createVolume(name: string, labels: Labels, signal?: AbortSignal): Promise<string> {
    await this.enter('createVolume', [name, labels], signal);
    if (!this.volumes.has(name)) this.volumes.set(name, { name, labels: { ...labels } });
    return name;
  }

  /** The fake engine has no host folders: berth copies sources through putArchive. */
  async volumeMountpoint(name: string, signal?: AbortSignal): Promise<string | null> {
    await this.enter('volumeMountpoint', [name], signal);
    return null;
  }

  async removeVolume(name: string, signal?: AbortSignal): Promise<void> {
    await this.enter('removeVolume', [name], signal);
    // As DockerodeEngine: a volume that is not there is no error (a volume made by a mount may never have been made).
    this.volumes.delete(name);
  }

  async listContainers(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]> {
    await this.enter('listContainers', [labelFilters], signal);
    return this.matching(this.containers.values(), labelFilters).map(listed);
  }

  async listContainersOnNetwork(networkId: string, signal?: AbortSignal): Promise<ListedObject[]> {
    await this.enter('listContainersOnNetwork', [networkId], signal);
    const n = this.findNetwork(networkId);
    return n ? this.attachedTo(n.id).map(listed) : [];
  }

  async listNetworks(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]> {
    await this.enter('listNetworks', [labelFilters], signal);
    return this.matching(this.networks.values(), labelFilters).map(listed);
  }

  async listVolumes(labelFilters: string[], signal?: AbortSignal): Promise<ListedObject[]> {
    await this.enter('listVolumes', [labelFilters], signal);
    return this.matching(this.volumes.values(), labelFilters).map((v) => ({ id: v.name, name: v.name, labels: v.labels }));
  }

  /** Records the call, waits on a gate, honours the signal, throws a scripted failure. */
  private async enter(op: EngineOperation, args: unknown[], signal?: AbortSignal): Promise<void> {
    this.calls.push({ op, args });
    if (signal?.aborted) throw abortReason(signal);
    const gate = this.gates.get(op);
    if (gate) {
      await new Promise<void>((resolve, reject) => {
        void gate.released.then(resolve);
        signal?.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
      });
    } else {
      await Promise.resolve();
    }
    const list = this.failures.get(op) ?? [];
    for (const f of list) {
      const err = typeof f.error === 'function' ? f.error(args) : f.error;
      if (!err) continue;
      if (--f.times <= 0) list.splice(list.indexOf(f), 1);
      throw err;
    }
  }

  private container(op: string, idOrName: string): FakeContainer {
    const c = this.findContainer(idOrName);
    if (!c) throw new EngineError(op, 404, `No such container: ${idOrName}`);
    return c;
  }

  private findContainer(idOrName: string): FakeContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
  }

  private findNetwork(idOrName: string): FakeNetwork | undefined {
    return this.networks.get(idOrName) ?? [...this.networks.values()].find((n) => n.name === idOrName);
  }

  private attachedTo(networkId: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.networks.has(networkId));
  }

  private matching<T extends { labels: Labels }>(objects: Iterable<T>, filters: string[]): T[] {
    return [...objects].filter((o) =>
      filters.every((f) => {
        const eq = f.indexOf('=');
        return eq < 0 ? f in o.labels : o.labels[f.slice(0, eq)] === f.slice(eq + 1);
      }),
    );
  }

  private newId(prefix: string): string {
    return `${prefix}${String(++this.next).padStart(63, '0')}`;
  }
}

/** An image as inspectImage answers it, with an id derived from the reference. */
export function fakeImage(ref: string, over: Partial<ImageInfo> = {}): ImageInfo {
  let hash = 0;
  for (const ch of ref) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return {
    id: `sha256:${hash.toString(16).padStart(64, '0')}`,
    repoTags: [ref],
    repoDigests: [],
    os: 'linux',
    architecture: 'amd64',
    config: { entrypoint: null, cmd: null, env: [], user: '', exposedPorts: [], labels: {} },
    ...over,
  };
}

function listed(o: { id: string; name: string; labels: Labels }): ListedObject {
  return { id: o.id, name: o.name, labels: { ...o.labels } };
}

function write(c: FakeContainer, stream: PassThrough, text: string): void {
  c.output += text;
  if (!stream.writableEnded) stream.write(Buffer.from(text, 'utf8'));
}

function readAll(stream: PassThrough): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const done = (): void => resolve(Buffer.concat(chunks).toString('utf8'));
    stream.once('end', done);
    stream.once('close', done);
  });
}

function streamEnd(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
  });
}
