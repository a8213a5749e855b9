/**
 * berth against a remote Docker engine over TLS: the second dockerd that
 * scripts/setup-remote-engine.sh runs in a network namespace of its own (only its TLS port is
 * reachable from here; its containers' addresses are not routable from berth's side, as on a
 * real remote host). The connection facts come from its env file (DOCKER_HOST,
 * DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, BERTH_REMOTE_WRONG_CA). Every test checks that the
 * remote engine holds no container, network or volume afterwards.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { stripAnsi } from '../../src/shared/ansi.js';
import { runBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';
import { loadRemoteEngineEnv, remoteEngineEnvFile } from '../support/remote-engine-env.js';
import type { TestJob } from '../support/gitlab-test-server.js';
import { startRegistry } from '../support/registry.js';
import { TestImages } from '../support/registry-images.js';
import { type NetnsTcpProxy, startNetnsTcpProxy } from '../support/netns-tcp-proxy.js';
import { traceText } from '../support/trace-text.js';

const ENV_FILE = remoteEngineEnvFile();

const remote = loadRemoteEngineEnv();
/** Environment for a berth process that must not see the remote engine through inherited variables. */
const NO_DOCKER_VARS = { DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };

/**
 * The names of the health-check probe containers (label berth.type=wait) created on an engine
 * since `since` (Unix seconds), from its event log: they are removed at once, so a listing
 * afterwards cannot show that one ran. `pid` narrows them to one berth exec process's objects.
 */
function probeCreations(dockerEnv: Record<string, string>, since: number, pid?: number): string[] {
  const args = ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=container', '--filter', 'event=create', '--filter', 'label=berth.type=wait'];
  if (pid !== undefined) args.push('--filter', `label=berth.exec.pid=${pid}`);
  const out = execFileSync('docker', [...args, '--format', '{{.Actor.Attributes.name}}'], { env: { ...process.env, ...dockerEnv }, encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

/**
 * Containers, networks and volumes on the remote engine that carry one of `filters` (the labels of
 * what this file's berth processes made: other test files may use the same engine at the same time).
 */
async function leftoversOn(engine: DockerodeEngine, filters: readonly string[]): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const out = { containers: [] as string[], networks: [] as string[], volumes: [] as string[] };
  for (const f of filters) {
    const [containers, networks, volumes] = await Promise.all([engine.listContainers([f]), engine.listNetworks([f]), engine.listVolumes([f])]);
    out.containers.push(...containers.map((c) => c.name));
    out.networks.push(...networks.map((n) => n.name));
    out.volumes.push(...volumes.map((v) => v.name));
  }
  return out;
}

/** The label filters of the berth processes of the current test. */
const owned: string[] = [];
/** runBerth, with the process's label filter kept for the leftover check. */
async function runOwned(...args: Parameters<typeof runBerth>): ReturnType<typeof runBerth> {
  const res = await runBerth(...args);
  owned.push(`berth.exec.pid=${res.pid}`);
  return res;
}

describe.skipIf(!remote)(`berth against a remote Docker engine over TLS${remote ? '' : ` (skipped: no ${ENV_FILE}; run scripts/setup-remote-engine.sh start as root)`}`, () => {
  const env = { DOCKER_HOST: remote?.DOCKER_HOST ?? '', DOCKER_CERT_PATH: remote?.DOCKER_CERT_PATH ?? '', BERTH_REMOTE_WRONG_CA: remote?.BERTH_REMOTE_WRONG_CA ?? '', BERTH_REMOTE_DROPPED: remote?.BERTH_REMOTE_DROPPED ?? '' };
  const endpoint = env.DOCKER_HOST;
  const engine = new DockerodeEngine({ host: env.DOCKER_HOST, tlsVerify: true, tlsCertPath: env.DOCKER_CERT_PATH });
  const repos: FixtureRepo[] = [];
  const repo = (files: Record<string, string>): string => {
    const r = makeRepo(files);
    repos.push(r);
    return r.dir;
  };

  beforeAll(async () => {
    // The remote engine answers over TLS with the client certificate, and is not the local one.
    const [info, local] = await Promise.all([engine.info(), new DockerodeEngine({ host: 'unix:///var/run/docker.sock' }).info()]);
    expect(info.id).not.toBe(local.id);
    expect(await engine.inspectImage('berth-test/busybox:latest')).not.toBeNull();
  });

  afterEach(async () => {
    for (const r of repos.splice(0)) r.remove();
    const filters = owned.splice(0);
    const left = await leftoversOn(engine, filters);
    // Clean up before asserting, so one failure does not cascade into the next tests.
    for (const f of filters) {
      for (const c of await engine.listContainers([f])) await engine.removeContainer(c.id, { force: true });
      for (const n of await engine.listNetworks([f])) await engine.removeNetwork(n.id);
      for (const v of await engine.listVolumes([f])) await engine.removeVolume(v.name);
    }
    expect(left).toEqual({ containers: [], networks: [], volumes: [] });
  });

  const pipeline = 'job:\n  image: berth-test/busybox:latest\n  script:\n    - echo "hello from $(hostname)"\n    - cat file.txt\n';

  it('berth exec runs a job there through DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', async () => {
    const dir = repo({ '.gitlab-ci.yml': pipeline, 'file.txt': 'sources reached the remote engine\n' });
    const res = await runOwned(['exec', '--cwd', dir], {
      env: { DOCKER_HOST: env.DOCKER_HOST, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: env.DOCKER_CERT_PATH },
      timeoutMs: 120_000,
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/job \| hello from berth-exec-/);
    expect(res.stdout).toContain('job | sources reached the remote engine');
    expect(res.stdout).toContain('Pipeline succeeded');
  });

  it('berth exec runs a job there through --docker-host, --docker-tls-verify and --docker-cert-path', async () => {
    const dir = repo({ '.gitlab-ci.yml': pipeline, 'file.txt': 'via flags\n' });
    const res = await runOwned(
      ['exec', '--cwd', dir, '--docker-host', endpoint, '--docker-tls-verify', '--docker-cert-path', env.DOCKER_CERT_PATH],
      { env: NO_DOCKER_VARS, timeoutMs: 120_000 },
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('job | via flags');
    // --docker-host alone, TLS settings from the variables (as the Docker CLI's -H).
    const res2 = await runOwned(['exec', '--cwd', dir, '--docker-host', endpoint], {
      env: { DOCKER_HOST: 'unix:///nonexistent.sock', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: env.DOCKER_CERT_PATH },
      timeoutMs: 120_000,
    });
    expect(res2.code).toBe(0);
    expect(res2.stdout).toContain('job | via flags');
  });

  it('a wrong CA, a missing certificate folder and plain HTTP each give one clear error naming the engine (exit 2), before any job', async () => {
    const dir = repo({ '.gitlab-ci.yml': pipeline, 'file.txt': 'x\n' });
    const wrongCa = await runOwned(['exec', '--cwd', dir], {
      env: { DOCKER_HOST: endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: env.BERTH_REMOTE_WRONG_CA },
      timeoutMs: 60_000,
    });
    expect(wrongCa.code).toBe(2);
    expect(wrongCa.stdout).toBe('');
    expect(wrongCa.stderr).toBe(
      `berth: error: berth exec cannot run jobs: TLS with the Docker engine at ${endpoint} failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE): ` +
        "unable to verify the first certificate. Check that ca.pem is the CA that signed the engine's certificate, that the certificate " +
        "names the host berth dials, and that cert.pem/key.pem are a client certificate the engine's CA signed " +
        '(DOCKER_CERT_PATH, --docker-cert-path or [runners.docker] tls_cert_path)\n',
    );
    expect(wrongCa.stderr).not.toContain('BEGIN');

    const missing = await runOwned(['exec', '--cwd', dir, '--docker-host', endpoint, '--docker-tls-verify', '--docker-cert-path', `${dir}/no-certs`], {
      env: NO_DOCKER_VARS,
      timeoutMs: 60_000,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `berth: error: berth exec cannot run jobs: Cannot use the Docker engine at ${endpoint}: cannot read the TLS CA certificate ${dir}/no-certs/ca.pem (ENOENT); ` +
        'point DOCKER_CERT_PATH, --docker-cert-path or [runners.docker] tls_cert_path at a folder with ca.pem, cert.pem and key.pem\n',
    );

    // The issue's report: TLS variables ignored, "Client sent an HTTP request to an HTTPS server".
    const plain = await runOwned(['exec', '--cwd', dir], { env: { ...NO_DOCKER_VARS, DOCKER_HOST: endpoint }, timeoutMs: 60_000 });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe(
      `berth: error: berth exec cannot run jobs: The Docker engine at ${endpoint} speaks TLS, but berth spoke plain HTTP: set DOCKER_TLS_VERIFY=1 ` +
        'and DOCKER_CERT_PATH (--docker-tls-verify/--docker-cert-path, or [runners.docker] tls_verify and tls_cert_path)\n',
    );
  });

  it('an unreachable engine is one error naming its endpoint (exit 2)', async () => {
    const dir = repo({ '.gitlab-ci.yml': pipeline, 'file.txt': 'x\n' });
    // 10.213.0.0/16 is the remote engine's pool: the host has an unreachable route for it.
    const res = await runOwned(['exec', '--cwd', dir, '--docker-host', 'tcp://10.213.255.254:2376', '--docker-tls-verify', '--docker-cert-path', env.DOCKER_CERT_PATH], {
      env: NO_DOCKER_VARS,
      timeoutMs: 60_000,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^berth: error: berth exec cannot run jobs: Cannot reach the Docker engine at tcp:\/\/10\.213\.255\.254:2376 \((EHOSTUNREACH|ENETUNREACH)\)/);
  });

  it('an engine behind a firewall that drops packets fails after the connect timeout (20 s), not the kernel\'s two minutes', async () => {
    const dir = repo({ '.gitlab-ci.yml': pipeline, 'file.txt': 'x\n' });
    const dropped = env.BERTH_REMOTE_DROPPED;
    const started = Date.now();
    const res = await runOwned(['exec', '--cwd', dir, '--docker-host', dropped, '--docker-tls-verify', '--docker-cert-path', env.DOCKER_CERT_PATH], {
      env: NO_DOCKER_VARS,
      timeoutMs: 90_000,
    });
    const seconds = (Date.now() - started) / 1000;
    expect(res.code).toBe(2);
    const hostPort = dropped.replace('tcp://', '');
    expect(res.stderr).toBe(
      `berth: error: berth exec cannot run jobs: Cannot reach the Docker engine at ${dropped} (ETIMEDOUT): connect ETIMEDOUT ${hostPort} (no connection within 20 s). ` +
        'Is dockerd running, and is DOCKER_HOST or [runners.docker] host right?\n',
    );
    expect(seconds).toBeGreaterThanOrEqual(20);
    expect(seconds).toBeLessThan(40);
  }, 120_000);

  it('the service health check runs in a probe container on the job network: a job with one service takes seconds, not the 30 s timeout', async () => {
    const dir = repo({
      '.gitlab-ci.yml': 'job:\n  image: berth-test/busybox:latest\n  services:\n    - name: berth-test/svc-http:latest\n      alias: web\n  script:\n    - wget -qO- http://web/\n',
    });
    const since = Math.floor(Date.now() / 1000) - 1;
    const started = Date.now();
    const res = await runOwned(['exec', '--cwd', dir], {
      env: { DOCKER_HOST: endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: env.DOCKER_CERT_PATH },
      timeoutMs: 150_000,
    });
    const seconds = (Date.now() - started) / 1000;
    const out = stripAnsi(res.stdout);
    expect(res.code).toBe(0);
    expect(out).toContain('job | Waiting for services to be up and running (timeout 30 seconds)...');
    expect(out).toContain('job | hello from svc-http');
    expect(out).not.toContain("probably didn't start properly");
    expect(out).not.toContain('WARNING');
    expect(seconds).toBeLessThan(15);
    // The probe ran on the remote engine (its create event), and is gone (afterEach: nothing left there).
    const probes = probeCreations({ DOCKER_HOST: endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: env.DOCKER_CERT_PATH }, since, res.pid);
    expect(probes).toHaveLength(1);
    expect(probes[0]).toMatch(/-berth-test__svc-http-0-wait-for-service$/);
    expect(await engine.listContainers(['berth.type=wait'])).toEqual([]);
    process.stdout.write(`remote engine: a job with one service took ${seconds.toFixed(1)} s (health check in a probe container)\n`);
  }, 180_000);

  it('a service that never listens: the probe warns with its dial error after wait_for_services_timeout, and the job goes on', async () => {
    const dir = repo({
      '.gitlab-ci.yml':
        'job:\n  image: berth-test/busybox:latest\n  services:\n    - name: berth-test/svc-never:latest\n      alias: never\n  script:\n    - echo job-ran\n',
    });
    const res = await runOwned(['exec', '--cwd', dir], {
      env: { DOCKER_HOST: endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: env.DOCKER_CERT_PATH },
      timeoutMs: 150_000,
    });
    const out = stripAnsi(res.stdout);
    expect(res.code).toBe(0);
    expect(out).toContain("job | *** WARNING: Service berth-test/svc-never:latest probably didn't start properly.");
    expect(out).toMatch(/job \| dial tcp 10\.213\.\d+\.\d+:8080: Connection refused \(waited 30 s\)/);
    expect(out).toContain('job | job-ran');
  }, 180_000);

  it('on the local engine the same job still dials the service from berth: no probe container', async () => {
    const dir = repo({
      '.gitlab-ci.yml': 'job:\n  image: berth-test/busybox:latest\n  services:\n    - name: berth-test/svc-http:latest\n      alias: web\n  script:\n    - wget -qO- http://web/\n',
    });
    const since = Math.floor(Date.now() / 1000) - 1;
    const res = await runOwned(['exec', '--cwd', dir], { env: NO_DOCKER_VARS, timeoutMs: 150_000 });
    const out = stripAnsi(res.stdout);
    expect(res.code).toBe(0);
    expect(out).toContain('job | hello from svc-http');
    expect(out).not.toContain("probably didn't start properly");
    expect(probeCreations({ ...NO_DOCKER_VARS, DOCKER_HOST: 'unix:///var/run/docker.sock' }, since, res.pid)).toEqual([]);
  }, 180_000);

  describe('berth run with [runners.docker] host, tls_verify and tls_cert_path', () => {
    let fx: RunFixture | null = null;
    afterEach(async () => {
      if (fx) owned.push(fx.labelFilter);
      await fx?.close();
      fx = null;
    });

    const trace = (job: TestJob): string => traceText(job);

    it('runs a GitLab job on the remote engine with sources fetched on berth\'s side; the local engine never sees it', async () => {
      fx = await createRunFixture();
      fx.writeConfig({ docker: `    host = "${endpoint}"\n    tls_verify = true\n    tls_cert_path = "${env.DOCKER_CERT_PATH}"` });
      const job = fx.enqueue({ script: ['cat data.txt', 'echo "engine host: $(hostname)"'] });
      // No Docker variables: the keys alone must select the remote engine.
      const run = fx.start();
      await fx.gl.waitFor(() => job.final !== null, 120_000, `the final update of job ${job.id}`);
      const text = trace(job);
      expect(job.final).toMatchObject({ state: 'success' });
      expect(text).toContain('data from the repository');
      expect(job.final!.checksum).toBe(job.checksum());
      // The build container ran on the remote engine: the local engine never saw this runner's objects.
      const local = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' });
      expect(await local.listContainers([fx.labelFilter])).toEqual([]);
      run.child.kill('SIGQUIT');
      expect((await run.result).code).toBe(0);
    });

    it('a config service (runners.docker.services) is health-checked by a probe on the remote engine: the job does not wait out the timeout', async () => {
      fx = await createRunFixture();
      fx.writeConfig({
        docker: `    host = "${endpoint}"\n    tls_verify = true\n    tls_cert_path = "${env.DOCKER_CERT_PATH}"`,
        extraRunner: '    [[runners.docker.services]]\n      name = "berth-test/svc-http:latest"\n      alias = "web"',
      });
      const job = fx.enqueue({ script: ['wget -qO- http://web/'] });
      const run = fx.start();
      const started = Date.now();
      await fx.gl.waitFor(() => job.final !== null, 120_000, `the final update of job ${job.id}`);
      const seconds = (Date.now() - started) / 1000;
      const text = trace(job);
      expect(job.final).toMatchObject({ state: 'success' });
      expect(text).toContain('Waiting for services to be up and running (timeout 10 seconds)...');
      expect(text).toContain('hello from svc-http');
      expect(text).not.toContain("probably didn't start properly");
      // The health check timeout is 10 s here: a dial from berth would have waited it out.
      expect(seconds).toBeLessThan(10);
      expect(await engine.listContainers(['berth.type=wait'])).toEqual([]);
      run.child.kill('SIGQUIT');
      expect((await run.result).code).toBe(0);
    });

    it('a wrong CA in tls_cert_path fails the job with an error naming the engine; the runner stays up', async () => {
      fx = await createRunFixture();
      fx.writeConfig({ docker: `    host = "${endpoint}"\n    tls_verify = true\n    tls_cert_path = "${env.BERTH_REMOTE_WRONG_CA}"` });
      const job = fx.enqueue({ script: ['echo never'] });
      const run = fx.start();
      await fx.gl.waitFor(() => job.final !== null, 120_000, `the final update of job ${job.id}`);
      expect(job.final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
      expect(trace(job)).toContain('ERROR: Job failed (system failure): TLS with the Docker engine at ');
      expect(trace(job)).toContain(`TLS with the Docker engine at ${endpoint} failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
      expect(trace(job)).not.toContain('BEGIN');
      expect(run.child.exitCode).toBeNull();
      // It stays up and takes the next job (which meets the same certificate, and the same clear error).
      const next = fx.enqueue({ script: ['echo never'] });
      await fx.gl.waitFor(() => next.final !== null, 120_000, `the final update of job ${next.id}`);
      expect(next.final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
      expect(trace(next)).toContain(`TLS with the Docker engine at ${endpoint} failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
      expect(run.child.exitCode).toBeNull();
      run.child.kill('SIGQUIT');
      expect((await run.result).code).toBe(0);
    });

    it('the engine goes away mid-job, then is unreachable: each job fails as runner_system_failure naming the engine; the runner stays up and runs the next job once the engine is back', async () => {
      // A second endpoint of the remote engine, a proxy in its network namespace (its certificate
      // names 10.212.0.2): killing the proxy plays the engine going away without stopping the
      // engine other tests share.
      const netns = remote?.BERTH_REMOTE_NETNS ?? 'berth-remote';
      const addr = new URL(endpoint).hostname;
      const target = Number(new URL(endpoint).port);
      let proxy: NetnsTcpProxy | null = await startNetnsTcpProxy(netns, addr, target);
      const port = proxy.port;
      const via = proxy.endpoint;
      try {
        fx = await createRunFixture();
        fx.writeConfig({ concurrent: 1, docker: `    host = "${via}"\n    tls_verify = true\n    tls_cert_path = "${env.DOCKER_CERT_PATH}"` });
        const run = fx.start(['--log-level', 'debug']);

        const midJob = fx.enqueue({ script: ['echo started-on-engine', 'sleep 30', 'echo never-finished'] });
        await fx.gl.waitFor(() => trace(midJob).includes('started-on-engine'), 90_000, "the first job to run").catch((err: unknown) => {
          throw new Error(`${String(err)}\nberth: ${run.stderrSoFar()}\ntrace: ${trace(midJob)}`);
        });
        await proxy.kill();
        proxy = null;
        await fx.gl.waitFor(() => midJob.final !== null, 60_000, `the final update of job ${midJob.id}`).catch((err: unknown) => {
          throw new Error(`${String(err)}\nberth: ${run.stderrSoFar()}\ntrace: ${trace(midJob)}`);
        });
        const midText = trace(midJob);
        expect(midJob.final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
        expect(midText).toContain('ERROR: Job failed (system failure): ');
        expect(midText).toContain(`Docker engine at ${via}`);
        expect(midText).not.toContain('never-finished');
        expect(run.child.exitCode).toBeNull();

        // Nothing listens there now: refused at once.
        const refused = fx.enqueue({ script: ['echo unreachable-ran'] });
        await fx.gl.waitFor(() => refused.final !== null, 60_000, `the final update of job ${refused.id}`);
        expect(refused.final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
        expect(trace(refused)).toContain(`ERROR: Job failed (system failure): Cannot reach the Docker engine at ${via} (ECONNREFUSED)`);
        expect(run.child.exitCode).toBeNull();

        // The engine is back at the same address: the same process takes and runs the next job.
        proxy = await startNetnsTcpProxy(netns, addr, target, port);
        const next = fx.enqueue({ script: ['echo back-again'] });
        await fx.gl.waitFor(() => next.final !== null, 90_000, `the final update of job ${next.id}`);
        expect(next.final).toMatchObject({ state: 'success' });
        expect(trace(next)).toContain('back-again');
        run.child.kill('SIGQUIT');
        expect((await run.result).code).toBe(0);
        // The first job's container could not be removed while the engine was away: the next
        // start of the runner sweeps it (same system id and token).
        const orphans = await engine.listContainers([fx.labelFilter]);
        expect(orphans.map((c) => c.name)).toEqual([expect.stringMatching(new RegExp(`-job-${midJob.id}-[0-9a-f]{8}-build$`))]);
        const asked = fx.gl.requestsTo('request').length;
        const again = fx.start();
        await fx.gl.waitFor(() => again.stderrSoFar().includes('Removed what an earlier berth process left behind'), 60_000, 'the start-up sweep');
        // SIGQUIT only once it asks for jobs: its signal handlers are installed after the sweep.
        await fx.gl.waitFor(() => fx!.gl.requestsTo('request').length > asked, 60_000, 'the restarted runner to ask for jobs');
        expect(await engine.listContainers([fx.labelFilter])).toEqual([]);
        again.child.kill('SIGQUIT');
        expect((await again.result).code).toBe(0);
        process.stdout.write(`engine gone mid-job:\n${midText.split('\n').slice(-6).join('\n')}\n`);
      } finally {
        await proxy?.kill();
      }
    }, 240_000);

    it("the start-up sweep on the remote engine removes only this runner's objects: same system id and token, berth-managed", async () => {
      fx = await createRunFixture();
      fx.writeConfig({ docker: `    host = "${endpoint}"\n    tls_verify = true\n    tls_cert_path = "${env.DOCKER_CERT_PATH}"` });
      const systemId = `r_${randomBytes(6).toString('hex')}`;
      const otherId = `r_${randomBytes(6).toString('hex')}`;
      writeFileSync(join(fx.dir, 'config', '.runner_system_id'), systemId, { mode: 0o600 });
      const mark = `berth.test.remote-sweep=${randomBytes(4).toString('hex')}`;
      const [mk, mv] = mark.split('=') as [string, string];
      const runnerLabels = (sid: string, token: string): Record<string, string> => ({ 'berth.managed': 'true', 'berth.runner.system_id': sid, 'berth.runner.short_token': token });
      const kinds: Record<string, Record<string, string>> = {
        mine: runnerLabels(systemId, fx.shortToken),
        // Another runner manager of the same runner (same token, other system id), e.g. on another host.
        'same-token-other-host': runnerLabels(otherId, fx.shortToken),
        // Another runner of this manager.
        'same-host-other-token': runnerLabels(systemId, 'OtherTokn'),
        // Same labels but not berth-managed.
        unmanaged: { 'berth.runner.system_id': systemId, 'berth.runner.short_token': fx.shortToken },
        // berth exec's objects.
        exec: { 'berth.managed': 'true', 'berth.exec.pid': '1' },
      };
      const made: { kind: string; container: string; network: string; volume: string }[] = [];
      try {
        for (const [kind, labels] of Object.entries(kinds)) {
          const name = `berth-sweep-test-${kind}-${randomBytes(3).toString('hex')}`;
          const all = { ...labels, [mk]: mv };
          const container = await engine.createContainer({ name, image: 'berth-test/busybox:latest', cmd: ['sleep', '600'], labels: all });
          await engine.startContainer(container);
          const network = await engine.createNetwork(name, all);
          const volume = await engine.createVolume(name, all);
          made.push({ kind, container, network, volume });
        }
        const run = fx.start();
        await fx.gl.waitFor(() => run.stderrSoFar().includes('Removed what an earlier berth process left behind'), 60_000, 'the start-up sweep');
        await fx.gl.waitFor(() => fx!.gl.requestsTo('request').length > 0, 60_000, 'the runner to ask for jobs');
        expect(run.stderrSoFar()).toMatch(/Removed what an earlier berth process left behind.*containers=1 networks=1 volumes=1/);
        const left = await leftoversOn(engine, [mark]);
        const kindOf = (name: string): string => /^berth-sweep-test-(.+)-[0-9a-f]{6}$/.exec(name)?.[1] ?? name;
        const others = Object.keys(kinds).filter((k) => k !== 'mine').sort();
        expect({ containers: left.containers.map(kindOf).sort(), networks: left.networks.map(kindOf).sort(), volumes: left.volumes.map(kindOf).sort() }).toEqual({
          containers: others,
          networks: others,
          volumes: others,
        });
        run.child.kill('SIGQUIT');
        expect((await run.result).code).toBe(0);
      } finally {
        for (const m of made) {
          await engine.removeContainer(m.container, { force: true }).catch(() => undefined);
          await engine.removeNetwork(m.network).catch(() => undefined);
          await engine.removeVolume(m.volume).catch(() => undefined);
        }
      }
    });

    it('pulls a private registry image with DOCKER_AUTH_CONFIG onto the remote engine; always, if-not-present and never look at the remote engine, not the local one', async () => {
      // The registry listens on the host's end of the remote engine's veth, the one address that
      // engine can reach (scripts/setup-remote-engine.sh: --insecure-registry 10.212.0.1:5000).
      const password = randomBytes(12).toString('hex');
      const registry = await startRegistry({ users: { 'berth-remote': password }, listen: '10.212.0.1:5000' });
      const ns = `${registry.host}/berth-remote-${randomBytes(4).toString('hex')}`;
      const label = `berth.test.remote-registry=${randomBytes(4).toString('hex')}`;
      const remoteDocker = new Docker({
        host: new URL(endpoint).hostname,
        port: Number(new URL(endpoint).port),
        protocol: 'https',
        ca: readFileSync(join(env.DOCKER_CERT_PATH, 'ca.pem')),
        cert: readFileSync(join(env.DOCKER_CERT_PATH, 'cert.pem')),
        key: readFileSync(join(env.DOCKER_CERT_PATH, 'key.pem')),
      });
      const remoteImages = new TestImages(label, [ns], remoteDocker);
      const localImages = new TestImages(label, [`berth-remote-local-${randomBytes(4).toString('hex')}`]);
      const privateRef = `${ns}/app:1`;
      const onlyLocal = `${localImages.registryHosts[0]}/app:1`;
      try {
        // Pushed from the remote engine (the local one does not trust 10.212.0.1:5000), then untagged there.
        await remoteImages.publish('berth-test/busybox:latest', `${ns}/app`, '1', { username: 'berth-remote', password, serveraddress: registry.host });
        expect(await engine.inspectImage(privateRef)).toBeNull();
        // Present on the local engine only.
        await localImages.tag('berth-test/busybox:latest', onlyLocal.replace(/:1$/, ''), '1');
        expect(await engine.inspectImage(onlyLocal)).toBeNull();

        fx = await createRunFixture();
        fx.writeConfig({
          concurrent: 1,
          docker: `    host = "${endpoint}"\n    tls_verify = true\n    tls_cert_path = "${env.DOCKER_CERT_PATH}"\n    allowed_pull_policies = ["always", "if-not-present", "never"]`,
        });
        const auth = JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`berth-remote:${password}`).toString('base64') } } });
        // GitLab lists the failure reasons it knows in features.failure_reasons; without them a runner reports script_failure.
        const features = { trace_sections: true, failure_reasons: ['script_failure', 'runner_system_failure', 'runner_configuration_error', 'image_pull_failure'] };
        const image = (name: string, policy: string): Record<string, unknown> => ({ features, image: { name, entrypoint: null, ports: [], executor_opts: {}, pull_policy: [policy] } });
        const authVar = [{ key: 'DOCKER_AUTH_CONFIG', value: auth, public: false, masked: false }];
        const run = fx.start();
        const runOne = async (o: Parameters<RunFixture['enqueue']>[0]): Promise<{ job: TestJob; text: string }> => {
          const job = fx!.enqueue(o);
          await fx!.gl.waitFor(() => job.final !== null, 90_000, `the final update of job ${job.id}`);
          return { job, text: trace(job) };
        };

        // never: the image is on the local engine, not on the remote one: gitlab-runner's failure.
        const never1 = await runOne({ script: ['echo never-ran'], overrides: image(onlyLocal, 'never') });
        expect(never1.job.final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
        expect(never1.text).toContain(`ERROR: Job failed (system failure): failed to pull image "${onlyLocal}" with specified policies [never]: Error response from daemon: `);
        expect(never1.text).toContain(`No such image: ${onlyLocal}`);
        expect(never1.text).not.toContain('never-ran');

        // always without credentials: the registry refuses.
        const anon = await runOne({ script: ['echo anon-ran'], overrides: image(privateRef, 'always') });
        expect(anon.job.final).toMatchObject({ state: 'failed', failureReason: 'runner_configuration_error' });
        expect(anon.text).toContain(`Pulling docker image ${privateRef} ...`);
        expect(anon.text).toMatch(/no basic auth credentials|unauthorized|authentication required/);

        // always with DOCKER_AUTH_CONFIG: pulled onto the remote engine.
        const always = await runOne({ script: ['echo "private image on $(hostname)"'], overrides: image(privateRef, 'always'), variables: authVar });
        expect(always.job.final).toMatchObject({ state: 'success' });
        expect(always.text).toContain('Authenticating with credentials from $DOCKER_AUTH_CONFIG');
        expect(always.text).toContain(`Pulling docker image ${privateRef} ...`);
        expect(always.text).toContain(`for ${privateRef} with digest ${ns}/app@sha256:`);
        expect(always.text).not.toContain(password);
        expect(await engine.inspectImage(privateRef)).not.toBeNull();

        // if-not-present and never, no credentials: the remote engine's copy is used, no pull.
        const ifNotPresent = await runOne({ script: ['echo inp-ran'], overrides: image(privateRef, 'if-not-present') });
        expect(ifNotPresent.job.final).toMatchObject({ state: 'success' });
        expect(ifNotPresent.text).toContain('Using locally found image version due to "if-not-present" pull policy');
        expect(ifNotPresent.text).not.toContain('Pulling docker image');
        const never2 = await runOne({ script: ['echo never2-ran'], overrides: image(privateRef, 'never') });
        expect(never2.job.final).toMatchObject({ state: 'success' });
        expect(never2.text).toContain('never2-ran');
        expect(never2.text).not.toContain('Pulling docker image');
        // Nothing of this reached the local engine.
        const local = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' });
        expect(await local.inspectImage(privateRef)).toBeNull();

        run.child.kill('SIGQUIT');
        expect((await run.result).code).toBe(0);
      } finally {
        await remoteImages.cleanup();
        await localImages.cleanup();
        await registry.stop();
      }
    }, 240_000);
  });
});
