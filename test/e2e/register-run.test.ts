import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { stripAnsi } from '../../src/shared/ansi.js';
import { runBerth } from '../support/berth-cli.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';
import { traceText } from '../support/trace-text.js';

const engine = new DockerodeEngine();
let fx: RunFixture;

beforeEach(async () => {
  fx = await createRunFixture();
});

afterEach(async () => {
  await fx.close();
  // register adds volumes = ["/cache"]: a persistent cache volume per runner (kept by design, as
  // gitlab-runner does); this test's runner is gone, so its cache goes too.
  for (const v of await engine.listVolumes([])) {
    if (v.name.startsWith(`berth-${fx.shortToken}-project-`)) await engine.removeVolume(v.name);
  }
  expect(await findLeftovers(engine, fx.labelFilter)).toEqual(NO_LEFTOVERS);
});

describe('berth register, then berth run (as an administrator would)', () => {
  it('registers with a glrt- token and a template, writes a private config.toml, and runs a job with the template services', async () => {
    const template = join(fx.dir, 'template.toml');
    writeFileSync(
      template,
      [
        '[[runners]]',
        '  [runners.docker]',
        '    pull_policy = ["if-not-present"]',
        '    wait_for_services_timeout = 10',
        '    [[runners.docker.services]]',
        '      name = "berth-test/svc-http:latest"',
        '      alias = "web-from-template"',
        '',
      ].join('\n'),
    );
    const reg = await runBerth([
      'register', '--non-interactive', '--url', fx.gl.url, '--token', fx.gl.runnerToken, '--executor', 'docker',
      '--docker-image', 'berth-test/bash:latest', '--description', 'e2e flow', '--template-config', template, '--config', fx.configPath,
    ]);
    expect(reg.stderr).not.toContain(fx.gl.runnerToken);
    expect(reg.code).toBe(0);
    expect(reg.stdout).toContain('Runner registered successfully. Feel free to start it, but if it\'s running already the config should be automatically reloaded!');
    expect(reg.stdout).toContain(`Configuration (with the authentication token) was saved in "${fx.configPath}"`);
    expect(statSync(fx.configPath).mode & 0o777).toBe(0o600);
    const toml = readFileSync(fx.configPath, 'utf8');
    expect(toml).toContain('name = "e2e flow"');
    expect(toml).toContain('alias = "web-from-template"');
    // Runs faster for the test than gitlab-runner's default of 3 s.
    writeFileSync(fx.configPath, toml.replace(/check_interval = \d+/, 'check_interval = 1'), { mode: 0o600 });

    const list = await runBerth(['list', '--config', fx.configPath]);
    expect(list.stdout + list.stderr).toContain(fx.shortToken);
    expect(list.stdout + list.stderr).not.toContain(fx.gl.runnerToken);

    const job = fx.enqueue({ image: '', script: ['wget -qO- http://web-from-template/', 'cat data.txt'] });
    job.payload.image = null;
    const run = await import('../support/berth-cli.js').then((m) => m.startBerth(['run', '--config', fx.configPath]));
    await fx.gl.waitFor(() => job.final !== null, 60_000, 'the job to finish');
    run.child.kill('SIGQUIT');
    const res = await run.result;
    const trace = traceText(job);
    expect(job.final).toMatchObject({ state: 'success' });
    expect(trace).toContain('Using Docker executor with image berth-test/bash:latest ...');
    expect(trace).toContain('hello from svc-http');
    expect(trace).toContain('data from the repository');
    expect(res.code).toBe(0);
    expect(res.stderr).not.toContain(fx.gl.runnerToken);
  });

  it('berth run started before berth register (GitLab\'s container flow) waits, then loads the new config.toml and runs a job', async () => {
    const { startBerth } = await import('../support/berth-cli.js');
    const run = startBerth(['run', '--config', fx.configPath]);
    const until = async (cond: () => boolean, what: string): Promise<void> => {
      for (const end = Date.now() + 20_000; !cond(); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr:\n${run.stderrSoFar()}`);
      }
    };
    await until(() => run.stderrSoFar().includes('No config file yet'), 'the start without a config file');
    expect(run.stderrSoFar()).toContain(`ERROR: Failed to load config stat ${fx.configPath}: no such file or directory`);
    expect(run.child.exitCode).toBeNull();

    const job = fx.enqueue({ script: ['cat data.txt'] });
    const reg = await runBerth([
      'register', '--non-interactive', '--url', fx.gl.url, '--token', fx.gl.runnerToken, '--executor', 'docker',
      '--docker-image', 'berth-test/bash:latest', '--docker-pull-policy', 'if-not-present', '--config', fx.configPath,
    ]);
    expect(reg.code).toBe(0);
    // check_interval 0 (3 s) and the config check every 3 s, as gitlab-runner.
    await fx.gl.waitFor(() => job.final !== null, 60_000, 'the job to finish');
    expect(job.final).toMatchObject({ state: 'success' });
    expect(stripAnsi(job.trace.toString('utf8'))).toContain('data from the repository');
    run.child.kill('SIGQUIT');
    const res = await run.result;
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('Configuration loaded');
    expect(res.stderr).not.toContain(fx.gl.runnerToken);
  });

  it('refuses to register without --docker-image, writes nothing, and exits 2', async () => {
    const reg = await runBerth([
      'register', '--non-interactive', '--url', fx.gl.url, '--token', fx.gl.runnerToken, '--executor', 'docker', '--config', fx.configPath,
    ]);
    expect(reg.code).toBe(2);
    expect(reg.stderr).toMatch(/docker-image|docker image/i);
    expect(() => statSync(fx.configPath)).toThrow();
  });
});
