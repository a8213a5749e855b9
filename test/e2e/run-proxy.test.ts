/**
 * `berth run` behind a proxy, end to end: the built daemon with HTTP_PROXY in its environment and
 * GitLab configured as `gitlab.test`, a name only the proxy (HttpProxyTestServer) resolves. The
 * job requests, the trace, the final update and the artifacts' upload and download all go
 * through it; the job's containers are the real engine's, and nothing is left behind.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { HttpProxyTestServer } from '../support/http-proxy-server.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';
import type { TestJob } from '../support/gitlab-test-server.js';
import { traceText } from '../support/trace-text.js';

const engine = new DockerodeEngine();
let fx: RunFixture | null = null;
let proxy: HttpProxyTestServer | null = null;

afterEach(async () => {
  if (fx) {
    await fx.close();
    const left = await findLeftovers(engine, fx.labelFilter);
    expect(left).toEqual(NO_LEFTOVERS);
  }
  await proxy?.close();
  fx = null;
  proxy = null;
});

const done = (f: RunFixture, job: TestJob) => f.gl.waitFor(() => job.final !== null, 90_000, `the final update of job ${job.id}`);

describe('berth run behind an HTTP proxy', () => {
  it('talks to GitLab (jobs, trace, updates, artifacts) only through HTTP_PROXY', async () => {
    fx = await createRunFixture();
    fx.writeConfig();
    const named = fx.gl.url.replace('127.0.0.1', 'gitlab.test');
    writeFileSync(fx.configPath, readFileSync(fx.configPath, 'utf8').replace(`url = "${fx.gl.url}"`, `url = "${named}"`), { mode: 0o600 });
    proxy = await HttpProxyTestServer.start({ hosts: { 'gitlab.test': '127.0.0.1' } });
    const archive = { name: 'dist', untracked: false, paths: ['dist/'], when: 'on_success', artifact_type: 'archive', artifact_format: 'zip', expire_in: '1 week' };
    const build = fx.enqueue({ name: 'build', script: ['mkdir dist && echo through the proxy > dist/app.txt'], overrides: { artifacts: [archive] } });
    // HTTP_PROXY in upper case only: git (libcurl) ignores it, so the clone from the loopback git server goes direct.
    const run = fx.start([], { HTTP_PROXY: proxy.url, http_proxy: '', HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' });
    await done(fx, build);
    expect(build.final, traceText(build)).toMatchObject({ state: 'success' });
    fx.gl.setJobStatus(build.id, 'success');
    const test = fx.enqueue({ name: 'test', script: ['cat dist/app.txt'], dependencies: [build] });
    await done(fx, test);
    const testTrace = traceText(test);
    expect(test.final, testTrace).toMatchObject({ state: 'success' });
    expect(testTrace).toContain('through the proxy');
    const paths = proxy.requests.map((r) => `${r.method} ${new URL(r.target).host}${new URL(r.target).pathname}`);
    const host = new URL(named).host;
    expect(paths).toEqual(
      expect.arrayContaining([
        `POST ${host}/api/v4/jobs/request`,
        `PATCH ${host}/api/v4/jobs/${build.id}/trace`,
        `PUT ${host}/api/v4/jobs/${build.id}`,
        `POST ${host}/api/v4/jobs/${build.id}/artifacts`,
        `GET ${host}/api/v4/jobs/${build.id}/artifacts`,
      ]),
    );
    expect(proxy.requests.every((r) => r.method !== 'CONNECT' && new URL(r.target).hostname === 'gitlab.test')).toBe(true);
    run.child.kill('SIGQUIT');
    await run.result;
  });
});
