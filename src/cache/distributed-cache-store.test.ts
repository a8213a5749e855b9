import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { s3CacheSettingsFor, startS3TestServer, type S3TestServer } from '../../test/support/s3-test-server.js';
import { parseConfig } from '../config/parse-config.js';
import type { CacheName } from '../artifacts/cache-key.js';
import type { DistributedCacheSettings, S3CacheSettings } from './cache-settings.js';
import { createCacheTransport, createDistributedCacheStore } from './create-cache-transport.js';
import { HttpProxyTestServer } from '../../test/support/http-proxy-server.js';
import { proxySettingsFrom, type ProxySettings } from '../shared/proxy-env.js';

let s3: S3TestServer;
let dir: string;
beforeAll(async () => {
  s3 = await startS3TestServer();
});
afterAll(async () => {
  await s3.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-s3-cache-'));
  s3.requests.length = 0;
  s3.failNext(0);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = new AbortController().signal;
const JOB = { projectId: 42, timeoutSeconds: 3600 };

function capture(): { log: JobLog; text: () => string } {
  const sink = new MemoryByteWriter();
  return { log: new JobLog(sink, { traceSections: false }), text: () => stripAnsi(sink.text) };
}

interface RunnerOptions {
  host: string;
  shortToken?: string;
  cache?: Partial<DistributedCacheSettings>;
  s3?: Partial<S3CacheSettings>;
  waits?: number[];
  /** TRANSFER_METER_FREQUENCY's period. */
  meterMs?: number;
  proxy?: ProxySettings;
}

/** One runner on one host: its own cache folder, the shared S3 server; waits recorded, not slept. */
function runner(o: RunnerOptions) {
  const settings: DistributedCacheSettings = { type: 's3', path: '', shared: true, maxUploadedArchiveSize: 0, ...o.cache, s3: s3CacheSettingsFor(s3, o.s3) };
  const waits = o.waits ?? [];
  const distributed = createDistributedCacheStore(settings, o.shortToken ?? 'runnerAAA', {
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    ...(o.proxy ? { proxy: o.proxy } : {}),
  });
  const cacheDir = join(dir, o.host);
  return { cacheDir, waits, transport: createCacheTransport({ cacheDir, distributed, ...JOB, ...(o.meterMs ? { meterMs: o.meterMs } : {}) }) };
}

async function zipFile(name: string, content: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('distributed cache through s3rver', () => {
  it('runner B restores what runner A saved (Shared = true), with the object\'s Last-Modified and metadata', async () => {
    const a = runner({ host: 'host-a', shortToken: 'aaaaaaaaa' });
    const b = runner({ host: 'host-b', shortToken: 'bbbbbbbbb' });
    const file = await zipFile('made.zip', 'the cache archive');

    const saved = capture();
    expect(await a.transport.save('default-protected', file, saved.log, signal)).toBe(true);
    const objectUrl = `http://${s3.address}/${s3.bucket}/project/42/default-protected`;
    expect(saved.text()).toBe(`Using presigned URL for cache upload\nUploading cache.zip to ${objectUrl}\n`);
    expect(await readFile(join(a.cacheDir, 'default-protected', 'cache.zip'), 'utf8')).toBe('the cache archive');

    const put = s3.requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toBe(`/${s3.bucket}/project/42/default-protected`);
    expect(put.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-length': String('the cache archive'.length),
      'x-amz-meta-cachekey': 'default-protected',
    });
    expect(new Date(put.headers['last-modified']!).getTime()).toBe(Math.floor((await stat(join(a.cacheDir, 'default-protected', 'cache.zip'))).mtimeMs / 1000) * 1000);

    const restored = capture();
    const got = await b.transport.restore('default-protected', restored.log, signal);
    expect(got?.path).toBe(join(b.cacheDir, 'default-protected', 'cache.zip'));
    expect(await readFile(got!.path, 'utf8')).toBe('the cache archive');
    const lines = restored.text().split('\n');
    expect(lines[0]).toBe('Using presigned URL for cache download');
    expect(lines[1]).toMatch(new RegExp(`^Downloading cache from ${objectUrl.replace(/[.]/g, '\\.')} +etag="[0-9a-f]+"$`));
    expect(lines.slice(2)).toEqual(['']);
    expect(JSON.parse(await readFile(join(b.cacheDir, 'default-protected', 'metadata.json'), 'utf8'))).toEqual({ cachekey: 'default-protected' });

    // One GET, no HEAD (without an alternate object there is nothing to choose between).
    expect(s3.requests.filter((r) => r.method !== 'PUT').map((r) => r.method)).toEqual(['GET']);

    // The downloaded file carries the object's Last-Modified: the next restore reads only the
    // GET's answer (cache_extractor.go checkIfUpToDate) and keeps the file as it is.
    s3.requests.length = 0;
    const before = (await stat(got!.path)).mtimeMs;
    const again = capture();
    expect((await b.transport.restore('default-protected', again.log, signal))?.path).toBe(got!.path);
    expect(again.text()).toBe('Using presigned URL for cache download\ncache.zip is up to date\n');
    expect(s3.requests.map((r) => r.method)).toEqual(['GET']);
    expect((await stat(got!.path)).mtimeMs).toBe(before);
    expect(await readdir(join(b.cacheDir, 'default-protected'))).toEqual(expect.arrayContaining(['cache.zip', 'metadata.json']));
    expect(await readdir(join(b.cacheDir, 'default-protected'))).toHaveLength(2);
  });

  it('saveWritten: the zip written in the cache folder is uploaded from there with its Content-Length (as gitlab-runner\'s presigned PUT)', async () => {
    const a = runner({ host: 'host-a' });
    const saved = capture();
    const ok = await a.transport.saveWritten!('written', async (file) => {
      await writeFile(file, 'written in place');
      return 'store';
    }, saved.log, signal);
    expect(ok).toBe(true);
    expect(saved.text()).toBe(`Using presigned URL for cache upload\nUploading cache.zip to http://${s3.address}/${s3.bucket}/project/42/written\n`);
    const put = s3.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/written'))!;
    expect(put.headers['content-length']).toBe(String('written in place'.length));
    expect(put.headers['transfer-encoding']).toBeUndefined();
    expect(await readdir(join(a.cacheDir, 'written'))).toEqual(expect.arrayContaining(['cache.zip', 'metadata.json']));
    expect(await readdir(join(a.cacheDir, 'written'))).toHaveLength(2);
    const b = runner({ host: 'host-b' });
    const got = await b.transport.restore('written', capture().log, signal);
    expect(await readFile(got!.path, 'utf8')).toBe('written in place');
  });

  it('a cache of several MiB goes up byte for byte (read into reused blocks, each released once the socket has it)', async () => {
    const a = runner({ host: 'host-a' });
    const b = runner({ host: 'host-b' });
    const bytes = randomBytes(4 * 1024 * 1024 + 12345);
    const file = join(dir, 'big.zip');
    await writeFile(file, bytes);
    expect(await a.transport.save('big', file, capture().log, signal)).toBe(true);
    const put = s3.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/big'))!;
    expect(put.headers['content-length']).toBe(String(bytes.length));
    const got = await b.transport.restore('big', capture().log, signal);
    // Over 4 MiB the restore resolves once the archive can be read: the file is whole once `done` is.
    await got!.arriving?.done;
    const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');
    expect(sha(await readFile(got!.path))).toBe(sha(bytes));
  });

  it('TRANSFER_METER_FREQUENCY: a save and a restore print gitlab-runner\'s meter with the archive\'s size, its last line with a newline', async () => {
    const a = runner({ host: 'host-a', meterMs: 1000 });
    const b = runner({ host: 'host-b', meterMs: 1000 });
    const meter = (label: string, size: string): string =>
      `\\r${label} 0 B/${size} \\(0 B/s\\) {16}(?:\\r${label} [^\\r\\n]+)*\\r${label} ${size}/${size} \\([\\d.]+ [KMG]?B/s\\) {16}\\n`;
    for (const [key, length, size] of [
      ['meter-big', 5_000_000, '5\\.00 MB'], // restored while it downloads (over 4 MiB)
      ['meter-small', 1000, '1\\.00 KB'], // downloaded, then read
    ] as const) {
      const file = join(dir, `${key}.zip`);
      await writeFile(file, randomBytes(length));
      const saved = capture();
      expect(await a.transport.save(key, file, saved.log, signal)).toBe(true);
      expect(saved.text()).toMatch(new RegExp(`^Using presigned URL for cache upload\\nUploading cache\\.zip to [^\\n]+\\n${meter('Uploading cache', size)}$`));
      const restored = capture();
      const got = await b.transport.restore(key, restored.log, signal);
      await got!.arriving?.done;
      await got!.release();
      expect(restored.text()).toMatch(new RegExp(`^Using presigned URL for cache download\\nDownloading cache from [^\\n]+\\n${meter('Downloading cache', size)}$`));
    }
  });

  it('behind a proxy (HTTP_PROXY): presigned PUT, GET, Range and HEAD requests all go through it, signed for the name the proxy resolves', async () => {
    const proxy = await HttpProxyTestServer.start({ hosts: { 's3.test': '127.0.0.1' } });
    try {
      const port = s3.address.split(':')[1]!;
      const settings = proxySettingsFrom({ HTTP_PROXY: proxy.url });
      const a = runner({ host: 'host-a', s3: { serverAddress: `s3.test:${port}` }, proxy: settings });
      const b = runner({ host: 'host-b', s3: { serverAddress: `s3.test:${port}` }, proxy: settings });
      const bytes = randomBytes(5 * 1024 * 1024);
      const file = join(dir, 'proxied.zip');
      await writeFile(file, bytes);
      const saved = capture();
      expect(await a.transport.save('proxied', file, saved.log, signal), saved.text()).toBe(true);
      const got = await b.transport.restore('proxied', capture().log, signal);
      await got!.arriving?.done;
      expect((await readFile(got!.path)).equals(bytes)).toBe(true);
      await got!.release();
      const seen = proxy.requests.map((r) => `${r.method} ${new URL(r.target).host}`);
      expect(seen).toEqual(expect.arrayContaining([`PUT s3.test:${port}`, `GET s3.test:${port}`]));
      // The end fetched ahead (a Range GET) went through it too: two GETs at least.
      expect(seen.filter((r) => r.startsWith('GET')).length).toBeGreaterThanOrEqual(2);
      expect(s3.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/proxied'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('stores keys with spaces, slashes and non-ASCII characters (metadata then travels in the signed query)', async () => {
    const a = runner({ host: 'host-a' });
    const b = runner({ host: 'host-b' });
    for (const key of ['unit test 1/8-v13-12-0-2', 'ünïcödé-protected']) {
      const saved = capture();
      expect(await a.transport.save(key, await zipFile('k.zip', key), saved.log, signal), saved.text()).toBe(true);
      const got = await b.transport.restore(key, capture().log, signal);
      expect(await readFile(got!.path, 'utf8')).toBe(key);
      expect(JSON.parse(await readFile(join(b.cacheDir, key, 'metadata.json'), 'utf8'))).toEqual({ cachekey: key });
    }
    expect(s3.requests.find((r) => r.method === 'PUT')?.path).toBe(`/${s3.bucket}/project/42/unit%20test%201/8-v13-12-0-2`);
  });

  it('downloads again when the local copy is older than the object', async () => {
    const a = runner({ host: 'host-a' });
    await a.transport.save('k', await zipFile('new.zip', 'new'), capture().log, signal);
    const local = join(a.cacheDir, 'k', 'cache.zip');
    await writeFile(local, 'old');
    await utimes(local, new Date('2020-01-01'), new Date('2020-01-01'));
    const c = capture();
    await a.transport.restore('k', c.log, signal);
    expect(c.text()).toContain('Downloading cache from');
    expect(await readFile(local, 'utf8')).toBe('new');
  });

  it('keeps runners apart without Shared (runner/<shortToken>/ prefix): another runner finds nothing', async () => {
    const a = runner({ host: 'host-a', shortToken: 'aaaaaaaaa', cache: { shared: false, path: 'ci' } });
    const b = runner({ host: 'host-b', shortToken: 'bbbbbbbbb', cache: { shared: false, path: 'ci' } });
    const saved = capture();
    expect(await a.transport.save('k', await zipFile('x.zip', 'x'), saved.log, signal)).toBe(true);
    expect(saved.text()).toContain(`Uploading cache.zip to http://${s3.address}/${s3.bucket}/ci/runner/aaaaaaaaa/project/42/k\n`);
    const c = capture();
    expect(await b.transport.restore('k', c.log, signal)).toBeNull();
    expect(c.text()).toBe('Using presigned URL for cache download\nWARNING: file does not exist\n');
  });

  describe('FF_HASH_CACHE_KEYS (shells/abstract.go newCacheConfig, cache/cache.go GetAdapter, cache_extractor.go selectPresignedURL)', () => {
    // The S3 server keeps its objects between tests: a key of its own for each.
    let human = '';
    let sha = '';
    let hashedName: CacheName;
    let plainName: CacheName;
    let n = 0;
    beforeEach(() => {
      n += 1;
      human = `deps/main key ${n}`;
      sha = createHash('sha256').update(human).digest('hex');
      hashedName = { key: human, storageKey: sha, alternateKey: human, hashed: true };
      plainName = { key: human, storageKey: human, alternateKey: sha, hashed: false };
    });

    it('stores under sha256(key): locally <sha>/cache.zip, remotely project/<id>/<sha[0:2]>/<sha>, metadata cachekey = the key', async () => {
      const a = runner({ host: 'host-a' });
      const saved = capture();
      expect(await a.transport.save(hashedName, await zipFile('h.zip', 'hashed'), saved.log, signal)).toBe(true);
      expect(await readFile(join(a.cacheDir, sha, 'cache.zip'), 'utf8')).toBe('hashed');
      expect(JSON.parse(await readFile(join(a.cacheDir, sha, 'metadata.json'), 'utf8'))).toEqual({ cachekey: human });
      const put = s3.requests.find((r) => r.method === 'PUT')!;
      expect(put.path).toBe(`/${s3.bucket}/project/42/${sha.slice(0, 2)}/${sha}`);
      expect(saved.text()).toContain(`Uploading cache.zip to http://${s3.address}/${s3.bucket}/project/42/${sha.slice(0, 2)}/${sha}\n`);
    });

    it('restores from the alternate (unhashed) object when the hashed one is missing, into <sha>/cache.zip', async () => {
      const a = runner({ host: 'host-a' });
      const b = runner({ host: 'host-b' });
      // Saved while the flag was off: project/42/<key>.
      expect(await a.transport.save(plainName, await zipFile('p.zip', 'written unhashed'), capture().log, signal)).toBe(true);
      expect(s3.requests.find((r) => r.method === 'PUT')?.path).toBe(`/${s3.bucket}/project/42/deps/main%20key%20${n}`);
      const c = capture();
      const got = await b.transport.restore(hashedName, c.log, signal);
      expect(got?.path).toBe(join(b.cacheDir, sha, 'cache.zip'));
      expect(await readFile(got!.path, 'utf8')).toBe('written unhashed');
      const lines = c.text().split('\n');
      expect(lines[0]).toBe('Using presigned URL for cache download');
      expect(lines[1]).toMatch(
        new RegExp(
          `^Selecting alternate cache URL: primary not available +alternate_modified=\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000 UTC ` +
            `alternate_url=http://${s3.address.replace(/[.]/g, '\\.')}/${s3.bucket}/project/42/deps/main%20key%20${n} ` +
            `primary_modified=0001-01-01 00:00:00 \\+0000 UTC primary_url=http://[^ ]+/project/42/${sha.slice(0, 2)}/${sha}$`,
        ),
      );
      expect(lines[2]).toMatch(new RegExp(`^Downloading cache from http://[^ ]+/project/42/deps/main%20key%20${n} +etag=`));
      expect(JSON.parse(await readFile(join(b.cacheDir, sha, 'metadata.json'), 'utf8'))).toEqual({ cachekey: human });
    });

    it('after turning the flag off, restores from the alternate sharded object of sha256(key)', async () => {
      const a = runner({ host: 'host-a' });
      const b = runner({ host: 'host-b' });
      expect(await a.transport.save(hashedName, await zipFile('h.zip', 'written hashed'), capture().log, signal)).toBe(true);
      const c = capture();
      const got = await b.transport.restore(plainName, c.log, signal);
      expect(got?.path).toBe(join(b.cacheDir, 'deps', `main key ${n}`, 'cache.zip'));
      expect(await readFile(got!.path, 'utf8')).toBe('written hashed');
      expect(c.text()).toContain('Selecting alternate cache URL: primary not available');
    });

    it('takes the primary object when both exist and the alternate is not newer; neither: file does not exist', async () => {
      const a = runner({ host: 'host-a' });
      const none = capture();
      expect(await a.transport.restore(hashedName, none.log, signal)).toBeNull();
      expect(none.text()).toMatch(/^Using presigned URL for cache download\nSelecting primary cache URL +alternate_modified=0001-01-01 00:00:00 \+0000 UTC .*\nWARNING: file does not exist\n$/);
      expect(await a.transport.save(hashedName, await zipFile('h.zip', 'primary'), capture().log, signal)).toBe(true);
      const b = runner({ host: 'host-b' });
      const c = capture();
      expect(await readFile((await b.transport.restore(hashedName, c.log, signal))!.path, 'utf8')).toBe('primary');
      expect(c.text()).toContain('Selecting primary cache URL');
    });

    it('a save renames a local archive under the alternate name to the primary one (cache_archiver.go tryRenameAlternateFile)', async () => {
      const a = runner({ host: 'host-a' });
      await a.transport.save(plainName, await zipFile('old.zip', 'old'), capture().log, signal);
      const c = capture();
      expect(await a.transport.save(hashedName, await zipFile('new.zip', 'new'), c.log, signal)).toBe(true);
      expect(c.text().split('\n')[0]).toBe('Renamed alternate cache file to primary');
      await expect(stat(join(a.cacheDir, 'deps', `main key ${n}`, 'cache.zip'))).rejects.toThrow(/ENOENT/);
      expect(await readFile(join(a.cacheDir, sha, 'cache.zip'), 'utf8')).toBe('new');
      // The primary exists now: nothing to rename.
      const again = capture();
      await a.transport.save(hashedName, await zipFile('new2.zip', 'newer'), again.log, signal);
      expect(again.text()).not.toContain('Renamed');
    });

    it('an unchanged cache: the primary object is HEADed; there, no upload; missing, the stored archive is uploaded (uploadExistingArchiveIfNeeded)', async () => {
      const a = runner({ host: 'host-a' });
      // Restored from the alternate (unhashed) object: the hashed primary is missing remotely.
      await a.transport.save(plainName, await zipFile('p.zip', 'from before the flag'), capture().log, signal);
      const b = runner({ host: 'host-b' });
      await b.transport.restore(hashedName, capture().log, signal);
      const stored: (Date | null)[] = [];
      const unchanged = async (file: string, at: Date | null) => {
        stored.push(at);
        await writeFile(file, 'made again');
        return 'unchanged' as const;
      };
      s3.requests.length = 0;
      const first = capture();
      expect(await b.transport.saveWritten!(hashedName, unchanged, first.log, signal)).toBe(true);
      const primary = `/${s3.bucket}/project/42/${sha.slice(0, 2)}/${sha}`;
      expect(first.text()).toBe(
        'Primary cache does not exist remotely, uploading existing archive\n' +
          'Using presigned URL for cache upload\n' +
          `Uploading cache.zip to http://${s3.address}${primary}\n`,
      );
      expect(s3.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`HEAD ${primary}`, `PUT ${primary}`]);
      expect(stored[0]).toBeInstanceOf(Date);
      const c = runner({ host: 'host-c' });
      expect(await readFile((await c.transport.restore(hashedName, capture().log, signal))!.path, 'utf8')).toBe('from before the flag');

      s3.requests.length = 0;
      const second = capture();
      expect(await b.transport.saveWritten!(hashedName, unchanged, second.log, signal)).toBe(true);
      expect(second.text()).toBe('Primary cache already exists remotely, skipping upload\n');
      expect(s3.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`HEAD ${primary}`]);
      expect(await readFile(join(b.cacheDir, sha, 'cache.zip'), 'utf8')).toBe('from before the flag');
      expect((await readdir(join(b.cacheDir, sha))).sort()).toEqual(['cache.zip', 'metadata.json']);
    });

    it('an unchanged cache whose HEAD fails: gitlab-runner\'s warning, then the upload is tried', async () => {
      const port = await closedPort();
      const r = runner({ host: 'h', s3: { serverAddress: `127.0.0.1:${port}` } });
      await mkdir(join(r.cacheDir, sha), { recursive: true });
      await writeFile(join(r.cacheDir, sha, 'cache.zip'), 'stored');
      const c = capture();
      expect(await r.transport.saveWritten!(hashedName, async () => 'unchanged', c.log, signal)).toBe(false);
      const lines = c.text().trimEnd().split('\n');
      expect(lines[0]).toMatch(
        /^WARNING: Failed to check primary cache existence via HEAD request, assuming absent +error=HEAD http:\/\/127\.0\.0\.1:\d+\/berth-cache\/project\/42\/[0-9a-f]{2}\/[0-9a-f]{64}: connect ECONNREFUSED/,
      );
      expect(lines[0]).not.toMatch(/X-Amz-|Signature=/);
      expect(lines[1]).toBe('Primary cache does not exist remotely, uploading existing archive');
      expect(lines.at(-1)).toMatch(/^FATAL: PUT http:\/\/127\.0\.0\.1:\d+\/[^ ]+: connect ECONNREFUSED/);
      expect(await readFile(join(r.cacheDir, sha, 'cache.zip'), 'utf8')).toBe('stored');
    });
  });

  it('a missing key is `WARNING: file does not exist`, without retries', async () => {
    const r = runner({ host: 'h' });
    const c = capture();
    expect(await r.transport.restore('never-saved', c.log, signal)).toBeNull();
    expect(c.text()).toBe('Using presigned URL for cache download\nWARNING: file does not exist\n');
    expect(r.waits).toEqual([]);
  });

  it('a wrong secret: 403 with S3\'s error, the upload\'s FATAL line, never a throw; the local copy is still stored', async () => {
    const r = runner({ host: 'h', s3: { secretKey: 'wrong-secret-never-logged' } });
    const save = capture();
    expect(await r.transport.save('k', await zipFile('x.zip', 'x'), save.log, signal)).toBe(false);
    const refused =
      'received: 403 Forbidden. Request failed with code: SignatureDoesNotMatch, message: The request signature we calculated does not match the signature you provided. Check your key and signing method.';
    expect(save.text()).toBe(`Using presigned URL for cache upload\nUploading cache.zip to http://${s3.address}/${s3.bucket}/project/42/k\nFATAL: ${refused}\n`);
    expect(await readFile(join(r.cacheDir, 'k', 'cache.zip'), 'utf8')).toBe('x');
    const restore = capture();
    expect(await r.transport.restore('k', restore.log, signal)).toBeNull();
    // The GET's answer carries S3's error (a HEAD's would have no body).
    expect(restore.text()).toBe(`Using presigned URL for cache download\nWARNING: ${refused}\n`);
    expect(r.waits).toEqual([]);
  });

  it('retries 5xx twice, 1 s apart, then succeeds', async () => {
    const r = runner({ host: 'h' });
    await r.transport.save('k', await zipFile('x.zip', 'x'), capture().log, signal);
    await rm(r.cacheDir, { recursive: true });
    s3.failNext(2);
    const c = capture();
    expect(await r.transport.restore('k', c.log, signal)).not.toBeNull();
    expect(r.waits).toEqual([1000, 1000]);
    expect(c.text().match(/WARNING: Retrying\.\.\. +error=received: 503 Service Unavailable\. Request failed with code: ServiceUnavailable, message: Injected failure\n/g)).toHaveLength(2);

    s3.requests.length = 0;
    s3.failNext(1, 500);
    const save = capture();
    expect(await r.transport.save('k', await zipFile('y.zip', 'y'), save.log, signal)).toBe(true);
    const uploading = `Using presigned URL for cache upload\nUploading cache.zip to http://${s3.address}/${s3.bucket}/project/42/k\n`;
    expect(save.text()).toMatch(
      new RegExp(
        `^${uploading.replace(/[.]/g, '\\.')}WARNING: Retrying\\.\\.\\. +error=received: 500 Internal Server Error\\. Request failed with code: ServiceUnavailable, message: Injected failure\n${uploading.replace(/[.]/g, '\\.')}$`,
      ),
    );
    expect(s3.requests.map((q) => q.method)).toEqual(['PUT', 'PUT']);
    expect(r.waits).toEqual([1000, 1000, 1000]);
  });

  it('gives up after 3 tries of an unreachable server: warnings, restore null, save false', async () => {
    const port = await closedPort();
    const r = runner({ host: 'h', s3: { serverAddress: `127.0.0.1:${port}` } });
    const restore = capture();
    expect(await r.transport.restore('k', restore.log, signal)).toBeNull();
    // Each try: `Using presigned URL ...` again, then its error; between tries gitlab-runner's Retrying line.
    const refused = String.raw`GET http://127\.0\.0\.1:\d+/berth-cache/project/42/k: connect ECONNREFUSED 127\.0\.0\.1:\d+`;
    const using = 'Using presigned URL for cache download\n';
    expect(restore.text()).toMatch(new RegExp(`^${using}WARNING: Retrying\\.\\.\\. +error=${refused}\n${using}WARNING: Retrying\\.\\.\\. +error=${refused}\n${using}WARNING: ${refused}\n$`));
    expect(r.waits).toEqual([1000, 1000]);

    const save = capture();
    expect(await r.transport.save('k', await zipFile('x.zip', 'x'), save.log, signal)).toBe(false);
    const put = String.raw`PUT http://127\.0\.0\.1:\d+/berth-cache/project/42/k: connect ECONNREFUSED 127\.0\.0\.1:\d+`;
    const uploading = String.raw`Using presigned URL for cache upload\nUploading cache\.zip to http://127\.0\.0\.1:\d+/berth-cache/project/42/k\n`;
    expect(save.text()).toMatch(
      new RegExp(`^${uploading}WARNING: Retrying\\.\\.\\. +error=${put}\n${uploading}WARNING: Retrying\\.\\.\\. +error=${put}\n${uploading}FATAL: ${put}\n$`),
    );
    expect(r.waits).toHaveLength(4);
  });

  it('times a silent server out (retried like a network error), and passes an abort of the job on', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const settings: DistributedCacheSettings = { type: 's3', path: '', shared: true, maxUploadedArchiveSize: 0, s3: s3CacheSettingsFor(s3, { serverAddress: `127.0.0.1:${port}` }) };
      const waits: number[] = [];
      const sleep = (ms: number) => {
        waits.push(ms);
        return Promise.resolve();
      };
      const distributed = createDistributedCacheStore(settings, 't', { sleep, requestTimeoutMs: 60_000 });
      // The job's CACHE_REQUEST_TIMEOUT wins over the store's default.
      const transport = createCacheTransport({ cacheDir: join(dir, 'h'), distributed, ...JOB, requestTimeoutMs: 100 });
      const c = capture();
      expect(await transport.restore('k', c.log, signal)).toBeNull();
      expect(c.text()).toMatch(/\nWARNING: GET http:\/\/127\.0\.0\.1:\d+\/berth-cache\/project\/42\/k: no answer within 0\.1s\n$/);
      expect(waits).toEqual([1000, 1000]);

      const job = new AbortController();
      const pending = transport.restore('k', capture().log, job.signal);
      setTimeout(() => job.abort(), 20);
      await expect(pending).rejects.toThrow();
      expect(waits).toEqual([1000, 1000]);
    } finally {
      silent.close();
    }
  });

  it('keeps an archive above MaxUploadedArchiveSize local', async () => {
    const r = runner({ host: 'h', cache: { maxUploadedArchiveSize: 5 } });
    const c = capture();
    expect(await r.transport.save('k', await zipFile('x.zip', '123456'), c.log, signal)).toBe(true);
    expect(c.text()).toBe('Cache archive size (6) is too big (Limit is set to 5). Cache will be stored only locally.\n');
    expect(s3.requests).toEqual([]);
    expect(await r.transport.save('k', await zipFile('y.zip', '12345'), capture().log, signal)).toBe(true);
    expect(s3.requests.map((q) => q.method)).toEqual(['PUT']);
  });

  it('never logs a secret, a signature or a query string', async () => {
    const secrets = { secretKey: 'wrong-secret-never-logged', sessionToken: 'session-token-never-logged' };
    const r = runner({ host: 'h', s3: secrets });
    const c = capture();
    await r.transport.save('k', await zipFile('x.zip', 'x'), c.log, signal);
    await r.transport.restore('k', c.log, signal);
    const ok = runner({ host: 'h2' });
    await ok.transport.save('k2', await zipFile('y.zip', 'y'), c.log, signal);
    await rm(ok.cacheDir, { recursive: true });
    await ok.transport.restore('k2', c.log, signal);
    const text = c.text();
    expect(text).toContain('Downloading cache from');
    for (const s of [...Object.values(secrets), 'X-Amz-', 'Signature=', '?']) expect(text).not.toContain(s);
  });

  it('takes a runner\'s [runners.cache] from config.toml as it is, and a per-job request timeout', async () => {
    const toml = `[[runners]]\n  executor = "docker"\n  [runners.cache]\n    Type = "s3"\n    Shared = true\n    [runners.cache.s3]\n      ServerAddress = "${s3.address}"\n      Insecure = true\n      AccessKey = "${s3.accessKey}"\n      SecretKey = "${s3.secretKey}"\n      BucketName = "${s3.bucket}"\n`;
    const settings: DistributedCacheSettings = parseConfig(toml, { file: 'config.toml', env: {} }).config.runners[0]!.cache;
    const distributed = createDistributedCacheStore(settings, 'x');
    const transport = createCacheTransport({ cacheDir: join(dir, 'h'), distributed, ...JOB, requestTimeoutMs: 60_000 });
    const c = capture();
    expect(await transport.save('from-config', await zipFile('x.zip', 'x'), c.log, signal)).toBe(true);
    expect(c.text()).toContain(`Uploading cache.zip to http://${s3.address}/${s3.bucket}/project/42/from-config\n`);
  });

  it('uses no distributed cache for gcs, azure, no type, or S3 without a bucket', () => {
    const base: DistributedCacheSettings = { type: 's3', path: '', shared: false, maxUploadedArchiveSize: 0, s3: s3CacheSettingsFor(s3) };
    expect(createDistributedCacheStore(base, 't')).not.toBeNull();
    for (const type of ['gcs', 'azure', '']) expect(createDistributedCacheStore({ ...base, type }, 't')).toBeNull();
    expect(createDistributedCacheStore({ ...base, s3: { ...base.s3, bucketName: '' } }, 't')).toBeNull();
  });
});
