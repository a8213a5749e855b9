/**
 * A distributed-cache archive read while it downloads (arriveCache through createCacheTransport)
 * against s3rver: the restore resolves before the body is whole, the extraction gets every file,
 * the archive lands in the cache folder (committed at release) with its Last-Modified, and a body
 * cut short is resumed with a Range request. The zips are yazl's (an independent writer).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3CacheSettingsFor, startS3TestServer, type S3TestServer } from '../../test/support/s3-test-server.js';
import { readTar } from '../../test/support/read-tar.js';
import { zipOf } from '../../test/support/yazl-zip.js';
import { zipToTar } from '../artifacts/zip-to-tar.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import type { DistributedCacheSettings } from './cache-settings.js';
import { createCacheTransport, createDistributedCacheStore } from './create-cache-transport.js';

let s3: S3TestServer;
let dir: string;
beforeAll(async () => {
  s3 = await startS3TestServer();
});
afterAll(async () => {
  await s3.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-arriving-cache-'));
  s3.requests.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = new AbortController().signal;
const files = Array.from({ length: 20 }, (_, i) => ({ name: `node_modules/p${String(i).padStart(2, '0')}.bin`, data: randomBytes(300_000 + i), compress: false }));

function runner(host: string, waits: number[] = []) {
  const settings: DistributedCacheSettings = { type: 's3', path: '', shared: true, maxUploadedArchiveSize: 0, s3: s3CacheSettingsFor(s3) };
  const distributed = createDistributedCacheStore(settings, 'runnerAAA', {
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  const cacheDir = join(dir, host);
  return { cacheDir, transport: createCacheTransport({ cacheDir, distributed, projectId: 42, timeoutSeconds: 3600 }) };
}


/** Runner A saves the zip of `files` under `key`; returns its bytes. */
async function saved(key: string): Promise<Buffer> {
  const zip = await zipOf(files);
  const file = join(dir, 'made.zip');
  await writeFile(file, zip);
  expect(await runner('host-a').transport.save(key, file, new JobLog(new MemoryByteWriter()), signal)).toBe(true);
  return zip;
}

describe('a distributed cache read while it downloads', () => {
  it('restore resolves with the archive arriving; every file comes out; release commits it into the cache folder', async () => {
    const zip = await saved('deps');
    const b = runner('host-b');
    const sink = new MemoryByteWriter();
    const archive = await b.transport.restore('deps', new JobLog(sink), signal);
    expect(archive?.arriving).toBeDefined();
    expect(archive!.path.startsWith(join(b.cacheDir, 'deps'))).toBe(true);
    const { stream, done } = await zipToTar(archive!.path, { signal, kind: 'cache', arriving: archive!.arriving!.file });
    const tar = await readTar(stream);
    await done;
    await archive!.arriving!.done;
    expect([...tar.keys()]).toEqual(files.map((f) => f.name));
    for (const f of files) expect(tar.get(f.name)!.data.equals(f.data)).toBe(true);
    // The end was fetched with a Range request on the presigned URL, answered 206 by s3rver.
    const ranged = s3.requests.filter((r) => r.method === 'GET' && r.headers.range !== undefined);
    expect(ranged.length).toBeGreaterThanOrEqual(1);
    expect(ranged.every((r) => r.status === 206)).toBe(true);
    await archive!.release();
    const cached = join(b.cacheDir, 'deps', 'cache.zip');
    expect((await readFile(cached)).equals(zip)).toBe(true);
    expect((await readdir(join(b.cacheDir, 'deps'))).sort()).toEqual(['cache.zip', 'metadata.json']);
    // Committed with the object's Last-Modified: the next restore reads only the GET's answer.
    const again = new MemoryByteWriter();
    s3.requests.length = 0;
    const second = await b.transport.restore('deps', new JobLog(again), signal);
    expect(second?.path).toBe(cached);
    expect(stripAnsi(again.text)).toContain('cache.zip is up to date');
    expect(s3.requests.map((r) => r.method)).toEqual(['GET']);
    expect((await readFile(cached)).equals(zip)).toBe(true);
  });

  it('a body cut short is resumed where it stopped (Range: bytes=<received>-), with gitlab-runner\'s Retrying line', async () => {
    const zip = await saved('cut');
    const waits: number[] = [];
    const b = runner('host-b', waits);
    s3.cutNextBody(2 * 1024 * 1024 + 123);
    const sink = new MemoryByteWriter();
    const archive = await b.transport.restore('cut', new JobLog(sink), signal);
    const { stream, done } = await zipToTar(archive!.path, { signal, kind: 'cache', arriving: archive!.arriving!.file });
    const tar = await readTar(stream);
    await done;
    await archive!.arriving!.done;
    expect(tar.size).toBe(files.length);
    for (const f of files) expect(tar.get(f.name)!.data.equals(f.data)).toBe(true);
    const resumed = s3.requests.filter((r) => r.method === 'GET' && /^bytes=\d+-$/.test(String(r.headers.range)));
    expect(resumed).toHaveLength(1);
    expect(Number(/^bytes=(\d+)-$/.exec(String(resumed[0]!.headers.range))![1])).toBeGreaterThan(0);
    expect(stripAnsi(sink.text)).toMatch(/WARNING: Retrying\.\.\. +error=Failed to download the cache from/);
    expect(waits).toEqual([1000]);
    await archive!.release();
    expect((await readFile(join(b.cacheDir, 'cut', 'cache.zip'))).equals(zip)).toBe(true);
  });

  it('a copy that cannot be kept in the cache folder after it was read is a warning, and its temporary file goes', async () => {
    await saved('blocked');
    const b = runner('host-b');
    const sink = new MemoryByteWriter();
    const archive = await b.transport.restore('blocked', new JobLog(sink), signal);
    const { stream, done } = await zipToTar(archive!.path, { signal, kind: 'cache', arriving: archive!.arriving!.file });
    expect((await readTar(stream)).size).toBe(files.length);
    await done;
    // cache.zip is a folder with something in it: the rename over it fails, even for root.
    await mkdir(join(b.cacheDir, 'blocked', 'cache.zip', 'x'), { recursive: true });
    await archive!.release();
    expect(stripAnsi(sink.text)).toMatch(/WARNING: Failed to store the cache archive .*cache\.zip/);
    expect((await readdir(join(b.cacheDir, 'blocked'))).sort()).toEqual(['cache.zip']);
  });

  it('released before it was read: the download stops and no file is left in the cache folder', async () => {
    await saved('dropped');
    const b = runner('host-b');
    const archive = await b.transport.restore('dropped', new JobLog(new MemoryByteWriter()), signal);
    expect(archive?.arriving).toBeDefined();
    await archive!.release();
    expect(existsSync(archive!.path)).toBe(false);
    const left = existsSync(join(b.cacheDir, 'dropped')) ? await readdir(join(b.cacheDir, 'dropped')) : [];
    expect(left.filter((f) => f !== 'cache.zip' && f !== 'metadata.json')).toEqual([]);
  });
});
