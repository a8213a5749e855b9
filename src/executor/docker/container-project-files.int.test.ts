import { Readable } from 'node:stream';
import { request } from 'node:http';
import { pack } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileEntry } from '../../artifacts/file-entry.js';
import { DockerodeEngine } from '../../engine/dockerode-engine.js';
import { findLeftovers, NO_LEFTOVERS } from '../../../test/support/leftovers.js';
import { testRunLabel } from '../../../test/support/job-fixtures.js';
import { ContainerProjectFiles } from './container-project-files.js';

const engine = new DockerodeEngine();
const run = testRunLabel();
const signal = new AbortController().signal;
const PROJECT = '/builds/group/project';

afterAll(async () => {
  for (const c of await engine.listContainers([run.filter])) await engine.removeContainer(c.id, { force: true });
  expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
});

async function container(script: string): Promise<string> {
  const id = await engine.createContainer({
    name: `berth-test-files-${run.value}-${Math.random().toString(16).slice(2, 8)}`,
    image: 'berth-test/bash:latest',
    entrypoint: ['/bin/sh', '-c'],
    cmd: [`mkdir -p ${PROJECT} && cd ${PROJECT} && ${script}`],
    labels: run.labels,
  });
  await engine.startContainer(id);
  expect(await engine.waitContainer(id)).toBe(0);
  return id;
}

async function collect(files: ContainerProjectFiles, rel: string): Promise<Record<string, string> | null> {
  const source = await files.read(rel, signal);
  if (!source) return null;
  const out: Record<string, string> = {};
  for await (const e of source as AsyncIterable<FileEntry>) {
    if (e.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const c of e.body) chunks.push(c as Buffer);
      out[e.path] = `file:${Buffer.concat(chunks).toString('utf8')}:${(e.mode & 0o777).toString(8)}`;
    } else {
      out[e.path] = e.type === 'symlink' ? `link:${e.linkTarget}` : e.type;
    }
  }
  return out;
}

describe('ContainerProjectFiles (real engine, stopped container)', () => {
  it('reads a folder, a single file and the whole project, links as links, names relative to the project', async () => {
    const id = await container('mkdir -p dist/sub && echo a > dist/a.txt && echo b > dist/sub/b.sh && chmod 755 dist/sub/b.sh && ln -s /etc/passwd dist/out && echo top > top.txt');
    const files = new ContainerProjectFiles(engine, id, PROJECT, new Set(['top.txt']), async () => undefined);
    expect(await collect(files, 'dist')).toEqual({
      dist: 'directory',
      'dist/a.txt': 'file:a\n:644',
      'dist/sub': 'directory',
      'dist/sub/b.sh': 'file:b\n:755',
      'dist/out': 'link:/etc/passwd',
    });
    expect(await collect(files, 'dist/sub/b.sh')).toEqual({ 'dist/sub/b.sh': 'file:b\n:755' });
    const all = await collect(files, '');
    expect(Object.keys(all!).sort()).toEqual(['dist', 'dist/a.txt', 'dist/out', 'dist/sub', 'dist/sub/b.sh', 'top.txt']);
    expect(await collect(files, 'missing/dir')).toBeNull();
    expect(files.tracked()?.has('top.txt')).toBe(true);
  });

  it('a path through a link loop does not exist (no engine error: gitlab-runner finds no match there)', async () => {
    const id = await container('ln -s loop-b loop-a && ln -s loop-a loop-b && mkdir d && echo x > d/x');
    const files = new ContainerProjectFiles(engine, id, PROJECT, new Set(), async () => undefined);
    expect(await collect(files, 'loop-a')).toBeNull();
    expect(await collect(files, 'loop-a/inside')).toBeNull();
    expect(await collect(files, 'd')).toEqual({ d: 'directory', 'd/x': 'file:x\n:644' });
  });

  it('a consumer may skip bodies: the next entries still come', async () => {
    const id = await container('mkdir -p d && head -c 300000 /dev/zero > d/big && echo x > d/small');
    const files = new ContainerProjectFiles(engine, id, PROJECT, new Set(), async () => undefined);
    const seen: string[] = [];
    for await (const e of (await files.read('d', signal))!) seen.push(`${e.path}:${e.size}`);
    expect(seen.sort()).toEqual(['d/big:300000', 'd/small:2', 'd:0']);
  });

  it('hands small files out in memory (data, and a body made on demand) and streams large ones', async () => {
    const id = await container('mkdir -p m && head -c 2000000 /dev/urandom > m/large && printf small > m/small && : > m/empty');
    const files = new ContainerProjectFiles(engine, id, PROJECT, new Set(), async () => undefined);
    const seen: Record<string, { data: number | undefined; body: number }> = {};
    for await (const e of (await files.read('m', signal))!) {
      if (e.type !== 'file') continue;
      const chunks: Buffer[] = [];
      const data = e.data?.length;
      for await (const c of e.body) chunks.push(c as Buffer);
      seen[e.path] = { data, body: Buffer.concat(chunks).length };
      if (e.data) expect(Buffer.concat(chunks).equals(e.data)).toBe(true);
    }
    expect(seen).toEqual({ 'm/large': { data: undefined, body: 2_000_000 }, 'm/small': { data: 5, body: 5 }, 'm/empty': { data: 0, body: 0 } });
  });

  it('writes a tar stream (names relative to the project) into the project directory', async () => {
    const id = await container('true');
    const files = new ContainerProjectFiles(engine, id, PROJECT, new Set(), async () => undefined);
    const tar = pack();
    tar.entry({ name: 'restored/', type: 'directory', mode: 0o755 });
    tar.entry({ name: 'restored/x.txt', mode: 0o600 }, 'restored!');
    tar.entry({ name: 'restored/l', type: 'symlink', linkname: 'x.txt' });
    tar.finalize();
    await files.write(tar as unknown as Readable, signal);
    expect(await collect(files, 'restored')).toEqual({ restored: 'directory', 'restored/x.txt': 'file:restored!:600', 'restored/l': 'link:x.txt' });
  });

  it('a container that is gone is an error, not an empty result', async () => {
    const id = await container('true');
    await engine.removeContainer(id, { force: true });
    const files = new ContainerProjectFiles(engine, id, PROJECT, new Set(), async () => undefined);
    await expect(files.read('', signal)).rejects.toThrow(/no such container/i);
  });
});

describe('ContainerProjectFiles: a disk that fills while extracting', () => {
  it('fails with the engine\'s "no space left" error naming the container path', async () => {
    // A 1 MiB tmpfs volume as the build directory: the engine mounts it for archive calls too.
    const volume = `berth-test-full-${run.value}`;
    await engineApi('POST', '/volumes/create', { Name: volume, Driver: 'local', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, Labels: run.labels });
    try {
      const id = await engine.createContainer({
        name: `berth-test-files-${run.value}-full`,
        image: 'berth-test/bash:latest',
        entrypoint: ['/bin/sh', '-c'],
        cmd: ['true'],
        labels: run.labels,
        mounts: [{ type: 'volume', source: volume, target: '/builds' }],
      });
      const files = new ContainerProjectFiles(engine, id, '/builds', new Set(), async () => undefined);
      const tar = pack();
      const body = Buffer.alloc(512 * 1024, 'x');
      for (let i = 0; i < 8; i++) tar.entry({ name: `big/part-${i}`, mode: 0o644 }, body);
      tar.finalize();
      await expect(files.write(tar as unknown as Readable, signal)).rejects.toThrow(/no space left on device/i);
      await engine.removeContainer(id, { force: true });
    } finally {
      await engine.removeVolume(volume);
    }
  });
});

/** A raw Engine API call on the local socket (EngineClient has no volume driver options; dockerode stays in src/engine). */
function engineApi(method: string, path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: '/var/run/docker.sock', path, method, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
