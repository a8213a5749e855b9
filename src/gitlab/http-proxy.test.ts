/**
 * `berth run` behind a proxy (HTTP_PROXY / HTTPS_PROXY / NO_PROXY, as gitlab-runner takes them
 * from its environment): the GitLab API over http (absolute-form requests) and over https (a
 * CONNECT tunnel, the private CA still checked inside it), an artifacts download, Basic proxy
 * authorisation from the proxy URL, a proxy that refuses, loopback going direct, and a SOCKS
 * proxy refused with a clear message. The GitLab test server is reached as `gitlab.test`, a name
 * only the proxy (HttpProxyTestServer) resolves: a request that bypassed the proxy would fail.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InstantClock } from '../../test/support/gitlab-test-server-clock.js';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { handOutJob } from '../../test/support/hand-out-job.js';
import { HttpProxyTestServer } from '../../test/support/http-proxy-server.js';
import { zipOf } from '../../test/support/yazl-zip.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { proxySettingsFrom } from '../shared/proxy-env.js';
import { ApiCaller } from './api-caller.js';
import { ArtifactsApi } from './artifacts-api.js';
import { GitLabClient } from './gitlab-client.js';
import { defaultRunnerInfo } from './runner-features.js';

const info = defaultRunnerInfo('test');
const signal = new AbortController().signal;
let gl: GitLabTestServer | undefined;
let proxy: HttpProxyTestServer | undefined;
let client: GitLabClient | undefined;
let dir: string | undefined;

afterEach(async () => {
  client?.close();
  await gl?.close();
  await proxy?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  client = undefined;
  gl = undefined;
  proxy = undefined;
  dir = undefined;
});

/** The proxy's URL with a user and password in it, as HTTP(S)_PROXY carries them. */
function withCredentials(proxyUrl: string, user: string, password: string): string {
  const url = new URL(proxyUrl);
  url.username = user;
  url.password = encodeURIComponent(password);
  return url.href;
}

/** gl's URL with `gitlab.test` as its host. */
const viaName = (server: GitLabTestServer): string => server.url.replace('127.0.0.1', 'gitlab.test');

describe('berth run behind a proxy', () => {
  it('http: the API goes to the proxy as absolute-form requests; without the proxy the name does not resolve', async () => {
    gl = await GitLabTestServer.start();
    proxy = await HttpProxyTestServer.start({ hosts: { 'gitlab.test': '127.0.0.1' } });
    client = new GitLabClient({ proxy: proxySettingsFrom({ HTTP_PROXY: proxy.url }) });
    const got = await client.requestJob({ url: viaName(gl), token: gl.runnerToken }, { systemId: 's_x', info });
    expect(got.kind).toBe('no-job');
    expect(proxy.requests).toEqual([{ method: 'POST', target: `${viaName(gl)}/api/v4/jobs/request`, authorised: true }]);

    // NO_PROXY names it: straight to gitlab.test, which only the proxy knows.
    const direct = new GitLabClient({ proxy: proxySettingsFrom({ HTTP_PROXY: proxy.url, NO_PROXY: '.test' }) });
    try {
      const failed = await direct.requestJob({ url: viaName(gl), token: gl.runnerToken }, { systemId: 's_x', info });
      expect(failed.kind).toBe('failed');
    } finally {
      direct.close();
    }
    expect(proxy.requests).toHaveLength(1);
  });

  it('https: a CONNECT tunnel (authorised), with the private CA (tls-ca-file) checked for gitlab.test inside it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-proxy-tls-'));
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth proxy test CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=gitlab.test');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:gitlab.test\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
    gl = await GitLabTestServer.start({ tls: { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) } });
    proxy = await HttpProxyTestServer.start({ hosts: { 'gitlab.test': '127.0.0.1' }, credentials: { user: 'ci', password: 'tunnel pw' } });
    const withAuth = withCredentials(proxy.url, 'ci', 'tunnel pw');
    client = new GitLabClient({ tlsCaFile: join(dir, 'ca.pem'), proxy: proxySettingsFrom({ HTTPS_PROXY: withAuth }) });
    const got = await client.requestJob({ url: viaName(gl), token: gl.runnerToken }, { systemId: 's_x', info });
    expect(got, JSON.stringify(got)).toMatchObject({ kind: 'no-job' });
    expect(proxy.requests).toEqual([{ method: 'CONNECT', target: `gitlab.test:${new URL(gl.url).port}`, authorised: true }]);

    // Without the CA, the certificate behind the tunnel is refused.
    const untrusting = new GitLabClient({ proxy: proxySettingsFrom({ HTTPS_PROXY: withAuth }) });
    try {
      const refused = await untrusting.requestJob({ url: viaName(gl), token: gl.runnerToken }, { systemId: 's_x', info });
      expect(refused).toMatchObject({ kind: 'failed', status: -1 });
      expect(refused.kind === 'failed' && refused.message).toMatch(/certificate/);
    } finally {
      untrusting.close();
    }
  });

  it('an artifacts download through the proxy, authorised with the user and password of its URL', async () => {
    gl = await GitLabTestServer.start();
    proxy = await HttpProxyTestServer.start({ hosts: { 'gitlab.test': '127.0.0.1' }, credentials: { user: 'ci', password: 's3cr=t' } });
    const caller = new ApiCaller({ clock: new InstantClock(), random: () => 1, proxy: proxySettingsFrom({ HTTP_PROXY: withCredentials(proxy.url, 'ci', 's3cr=t') }) });
    try {
      const api = new ArtifactsApi(caller, { clock: new InstantClock(), directDownload: false });
      dir = mkdtempSync(join(tmpdir(), 'berth-proxy-art-'));
      const build = await handOutJob(gl, { name: 'build' });
      const zip = await zipOf([{ name: 'dist/a.bin', data: randomBytes(300_000) }]);
      writeFileSync(join(dir, 'up.zip'), zip);
      const log = new JobLog(new MemoryByteWriter(), { traceSections: false });
      const job = { url: viaName(gl), id: build.id, token: build.token };
      await api.upload(job, { file: join(dir, 'up.zip'), filename: 'artifacts.zip', artifactType: 'archive', artifactFormat: 'zip', expireIn: '' }, log, signal);
      gl.setJobStatus(build.id, 'success');
      const test = await handOutJob(gl, { name: 'test', dependencies: [build] });
      const dep = { id: build.id, name: 'build', token: test.token, artifactsFile: { filename: 'artifacts.zip', size: zip.length } };
      await api.download(viaName(gl), dep, join(dir, 'down.zip'), log, signal);
      expect(readFileSync(join(dir, 'down.zip')).equals(zip)).toBe(true);
      expect(proxy.requests.map((r) => `${r.method} ${new URL(r.target).pathname} ${r.authorised}`)).toEqual([
        `POST /api/v4/jobs/${build.id}/artifacts true`,
        `GET /api/v4/jobs/${build.id}/artifacts true`,
      ]);
    } finally {
      caller.close();
    }
  });

  it('a proxy that refuses (407) is GitLab unreachable to the runner, its message without the password', async () => {
    gl = await GitLabTestServer.start();
    proxy = await HttpProxyTestServer.start({ hosts: { 'gitlab.test': '127.0.0.1' }, credentials: { user: 'ci', password: 'right' } });
    client = new GitLabClient({ proxy: proxySettingsFrom({ HTTP_PROXY: withCredentials(proxy.url, 'ci', 'wrong-password') }), retryAttempts: 1 });
    const got = await client.requestJob({ url: viaName(gl), token: gl.runnerToken }, { systemId: 's_x', info });
    expect(got).toMatchObject({ kind: 'failed', status: 407 });
    expect(JSON.stringify(got)).not.toContain('wrong-password');
    expect(proxy.requests).toEqual([{ method: 'POST', target: `${viaName(gl)}/api/v4/jobs/request`, authorised: false }]);
  });

  it('loopback goes direct even with a proxy set; a SOCKS proxy is refused with what to do', async () => {
    gl = await GitLabTestServer.start();
    proxy = await HttpProxyTestServer.start({ hosts: {} });
    client = new GitLabClient({ proxy: proxySettingsFrom({ HTTP_PROXY: proxy.url }) });
    expect((await client.requestJob({ url: gl.url, token: gl.runnerToken }, { systemId: 's_x', info })).kind).toBe('no-job');
    expect(proxy.requests).toEqual([]);

    const socks = new GitLabClient({ proxy: proxySettingsFrom({ HTTP_PROXY: 'socks5://u:pw@proxy.corp:1080' }) });
    try {
      const got = await socks.requestJob({ url: 'http://gitlab.test', token: gl.runnerToken }, { systemId: 's_x', info });
      expect(got).toMatchObject({ kind: 'failed', status: -1 });
      expect(got.kind === 'failed' && got.message).toBe(
        'HTTP_PROXY names a socks5 proxy (proxy.corp:1080); berth talks to HTTP and HTTPS proxies only: set HTTP_PROXY to one, or leave it unset',
      );
    } finally {
      socks.close();
    }
  });
});
