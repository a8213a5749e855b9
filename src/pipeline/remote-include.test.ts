import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpsTestServer, type HttpsTestServer } from '../../test/support/https-test-server.js';
import { jobNames, ProjectFactory } from '../../test/support/project-factory.js';
import { HttpProxyTestServer } from '../../test/support/http-proxy-server.js';
import { proxySettingsFrom } from '../shared/proxy-env.js';
import { IncludeCache } from './load/include-cache.js';
import { fetchRemoteInclude } from './load/remote-include.js';

const projects = new ProjectFactory();
let server: HttpsTestServer;
let cacheRoot: string;
let n = 0;
/** A fresh, empty cache folder for one test. */
const freshCache = (): string => join(cacheRoot, `c${++n}`);

beforeAll(async () => {
  server = await startHttpsTestServer();
  cacheRoot = await mkdtemp(join(tmpdir(), 'berth-include-cache-'));
});
afterAll(async () => {
  await server.close();
  await server.cleanup();
  await projects.cleanup();
  await rm(cacheRoot, { recursive: true, force: true });
});

describe('include:remote', () => {
  it('fetches the file over https, merges it, and reads its include:local from the including repository', async () => {
    server.routes.set('/lib/ci.yml', { body: 'include: local-part.yml\nremote-job: {script: r}\n' });
    const p = await projects.compile(`include:\n  - remote: ${server.url}/lib/ci.yml\nmain: {script: m}\n`, {
      files: { 'local-part.yml': 'from-repo: {script: l}\n' },
      includes: { cacheDir: freshCache(), caFile: server.caFile },
    });
    expect(jobNames(p)).toEqual(['from-repo', 'remote-job', 'main']);
    expect(p.warnings).toEqual([]);
  });

  it('uses the cached copy with a warning when the server cannot be reached (offline)', async () => {
    const cacheDir = freshCache();
    server.routes.set('/offline.yml', { body: 'cached-job: {script: c}\n' });
    const yaml = `include: ${server.url}/offline.yml\n`;
    expect(jobNames(await projects.compile(yaml, { includes: { cacheDir, caFile: server.caFile } }))).toEqual(['cached-job']);
    server.routes.delete('/offline.yml');
    const p = await projects.compile(yaml, { includes: { cacheDir, caFile: server.caFile } });
    expect(jobNames(p)).toEqual(['cached-job']);
    expect(p.warnings).toEqual([`.gitlab-ci.yml:1: include:remote "${server.url}/offline.yml": not found (HTTP 404); using the cached copy from ${cacheDir}`]);
    // No cache: the same failure is an error naming file, line and URL.
    const err = await projects.error(`job: {script: x}\ninclude: ${server.url}/offline.yml\n`, { includes: { cacheDir: freshCache(), caFile: server.caFile } });
    expect(err.message).toBe(
      `.gitlab-ci.yml:2: include:remote "${server.url}/offline.yml": not found (HTTP 404), and there is no cached copy in ${cacheRoot}/c${n}; check the URL and the network (or --include-ca for a private CA)`,
    );
    expect(err.line).toBe(2);
  });

  it('refuses http:// URLs, redirects to http://, and files over 4 MiB; checks integrity', async () => {
    const includes = { cacheDir: freshCache(), caFile: server.caFile };
    expect((await projects.error('include:\n  - remote: http://127.0.0.1:1/ci.yml\n', { includes })).message).toBe(
      '.gitlab-ci.yml:2: include:remote "http://127.0.0.1:1/ci.yml": berth fetches remote includes over https only (a pipeline fetched in clear text could be changed on the way); use an https:// URL',
    );
    server.routes.set('/redirect.yml', { status: 302, headers: { location: 'http://127.0.0.1:1/ci.yml' } });
    expect((await projects.error(`include: ${server.url}/redirect.yml\n`, { includes })).message).toMatch(/the server redirects to an http:\/\/ URL, which berth refuses, and there is no cached copy/);
    server.routes.set('/big.yml', { body: Buffer.alloc(4 * 1024 * 1024 + 1, 0x23) });
    expect((await projects.error(`include: ${server.url}/big.yml\n`, { includes })).message).toBe(
      `.gitlab-ci.yml:1: include:remote "${server.url}/big.yml": the file is more than 4194304 bytes (4 MiB); split it`,
    );
    server.routes.set('/ok.yml', { body: 'ok: {script: x}\n' });
    expect((await projects.error(`include:\n  - remote: ${server.url}/ok.yml\n    integrity: sha256-AAAA\n`, { includes })).message).toMatch(/does not match integrity "sha256-AAAA"/);
  });

  it('fails with file, line and URL for an untrusted certificate, and never writes the cache through a link', async () => {
    server.routes.set('/tls.yml', { body: 'tls: {script: x}\n' });
    const err = await projects.error(`job: {script: x}\ninclude: ${server.url}/tls.yml\n`, { includes: { cacheDir: freshCache() } });
    expect(err.message).toMatch(new RegExp(`^\\.gitlab-ci\\.yml:2: include:remote "${server.url}/tls\\.yml": cannot be fetched \\(`));
    const cacheDir = freshCache();
    const elsewhere = await mkdtemp(join(tmpdir(), 'berth-elsewhere-'));
    await mkdir(cacheDir);
    await symlink(elsewhere, join(cacheDir, 'remote'));
    const p = await projects.compile(`include: ${server.url}/tls.yml\n`, { includes: { cacheDir, caFile: server.caFile } });
    expect(jobNames(p)).toEqual(['tls']);
    expect(p.warnings[0]).toMatch(/fetched, but not cached \(Refusing .*symbolic link/);
    expect(await readdir(elsewhere)).toEqual([]);
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('never prints a token the URL carries in a variable or as user info', async () => {
    const secret = 'glpat-URLsecret123456789';
    server.routes.set('/private.yml', { body: 'private: {script: x}\n' });
    const includes = { cacheDir: freshCache(), caFile: server.caFile };
    const ok = await projects.compile(`include: ${server.url}/private.yml?private_token=$TOKEN\n`, { includes, variables: { TOKEN: secret } });
    expect(jobNames(ok)).toEqual(['private']);
    const url = server.url.replace('https://', `https://user:${secret}@`);
    for (const yaml of [`include: ${server.url}/missing.yml?private_token=$TOKEN\n`, `include:\n  - remote: ${url}/missing.yml\n`]) {
      const err = await projects.error(yaml, { includes, variables: { TOKEN: secret } });
      expect(err.message).toMatch(/not found \(HTTP 404\), and there is no cached copy/);
      expect(err.message).not.toContain(secret);
    }
  });

  it('goes through HTTPS_PROXY (a CONNECT tunnel; --include-ca still checked inside it), and says what to do with a SOCKS proxy', async () => {
    const named = await startHttpsTestServer({ name: 'includes.test' });
    const proxy = await HttpProxyTestServer.start({ hosts: { 'includes.test': '127.0.0.1' } });
    try {
      named.routes.set('/p.yml', { body: 'proxied: {script: x}\n' });
      const url = named.url.replace('127.0.0.1', 'includes.test');
      const base = { cache: new IncludeCache(freshCache()), maxBytes: 4 * 1024 * 1024, caFile: named.caFile, warn: () => undefined };
      const body = await fetchRemoteInclude(`${url}/p.yml`, `${url}/p.yml`, undefined, null, { ...base, proxy: proxySettingsFrom({ HTTPS_PROXY: proxy.url }) });
      expect(body).toBe('proxied: {script: x}\n');
      expect(proxy.requests).toEqual([{ method: 'CONNECT', target: `includes.test:${new URL(named.url).port}`, authorised: true }]);
      await expect(
        fetchRemoteInclude(`${url}/p.yml`, `${url}/p.yml`, undefined, null, { ...base, cache: new IncludeCache(freshCache()), proxy: proxySettingsFrom({ https_proxy: 'socks5://proxy.corp:1080' }) }),
      ).rejects.toThrow(`include:remote "${url}/p.yml": https_proxy names a socks5 proxy (proxy.corp:1080); berth talks to HTTP and HTTPS proxies only: set https_proxy to one, or leave it unset`);
    } finally {
      await proxy.close();
      await named.close();
      await named.cleanup();
    }
  });
});
