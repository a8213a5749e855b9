/**
 * One `berth run` with two `[[runners]]` in its config.toml on two engines — the local one and
 * the remote TLS engine of scripts/setup-remote-engine.sh — each with its own `limit`, under a
 * process-wide `concurrent` smaller than the sum of the limits. More jobs are queued than the
 * limits allow. Checked from the engines' side (their event logs: when each job's containers
 * were created and destroyed, per engine) and from GitLab's (hand-out to final update): neither
 * limit nor concurrent is ever exceeded, both are reached, and every job ran exactly once, on
 * the engine of the runner GitLab gave it to.
 * gitlab-runner: `concurrent` caps all jobs of the process, `limit` those of one [[runners]]
 * entry (commands/multi.go, common/config.go).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { shortToken } from '../../src/gitlab/short-token.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { loadRemoteEngineEnv, remoteEngineEnvFile } from '../support/remote-engine-env.js';
import type { TestJob } from '../support/gitlab-test-server.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';

const ENV_FILE = remoteEngineEnvFile();
const remote = loadRemoteEngineEnv();

const CONCURRENT = 3;
const LIMIT = 2;
const JOBS_PER_RUNNER = 7;

interface ContainerEvent {
  status?: string;
  Action?: string;
  timeNano: number;
  Actor: { ID: string; Attributes: Record<string, string> };
}

/** The container create/destroy events of one runner on an engine between two times (Unix seconds). */
async function containerEvents(docker: Docker, label: string, since: number, until: number): Promise<ContainerEvent[]> {
  const stream = (await docker.getEvents({
    since,
    until,
    filters: { type: ['container'], event: ['create', 'destroy'], label: [label] },
  } as object));
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ContainerEvent);
}

/** Per job id: from its first container's creation to its last one's removal (ns). */
function jobIntervals(events: ContainerEvent[]): Map<string, { from: number; to: number; containers: Set<string> }> {
  const out = new Map<string, { from: number; to: number; containers: Set<string> }>();
  for (const e of events) {
    const job = e.Actor.Attributes['berth.job.id'] ?? '?';
    const at = Number(e.timeNano);
    const cur = out.get(job) ?? { from: Infinity, to: -Infinity, containers: new Set<string>() };
    cur.containers.add(e.Actor.ID);
    if ((e.Action ?? e.status) === 'create') cur.from = Math.min(cur.from, at);
    else cur.to = Math.max(cur.to, at);
    out.set(job, cur);
  }
  return out;
}

/** The most intervals open at once. */
function peak(intervals: { from: number; to: number }[]): number {
  const points = intervals.flatMap((i) => [
    { at: i.from, d: 1 },
    { at: i.to, d: -1 },
  ]);
  // At equal times, an end before a start: touching intervals do not overlap.
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (open += p.d));
  return max;
}

describe.skipIf(!remote)(`berth run: two [[runners]] on two engines, limit and concurrent${remote ? '' : ` (skipped: no ${ENV_FILE})`}`, () => {
  let fx: RunFixture | null = null;
  afterEach(async () => {
    await fx?.close();
    fx = null;
  });

  it(`concurrent ${CONCURRENT} and limit ${LIMIT} per runner hold on both engines; every job runs once, on its runner's engine`, async () => {
    fx = await createRunFixture();
    const gl = fx.gl;
    const tokenLocal = gl.runnerToken;
    const tokenRemote = gl.addRunner().token;
    const host = remote!.DOCKER_HOST!;
    const certPath = remote!.DOCKER_CERT_PATH!;
    const entry = (name: string, token: string, docker: string[]): string[] => [
      '[[runners]]',
      `  name = "${name}"`,
      `  url = "${gl.url}"`,
      `  token = "${token}"`,
      '  executor = "docker"',
      `  limit = ${LIMIT}`,
      '  [runners.docker]',
      '    image = "berth-test/busybox:latest"',
      '    pull_policy = ["if-not-present"]',
      ...docker,
      '',
    ];
    mkdirSync(dirname(fx.configPath), { recursive: true });
    writeFileSync(
      fx.configPath,
      [
        `concurrent = ${CONCURRENT}`,
        'check_interval = 1',
        'shutdown_timeout = 30',
        '',
        ...entry('multi-local', tokenLocal, ['    host = "unix:///var/run/docker.sock"']),
        ...entry('multi-remote', tokenRemote, [`    host = "${host}"`, '    tls_verify = true', `    tls_cert_path = "${certPath}"`]),
      ].join('\n'),
      { mode: 0o600 },
    );
    const localDocker = new Docker({ socketPath: '/var/run/docker.sock' });
    const remoteUrl = new URL(host);
    const remoteDocker = new Docker({
      host: remoteUrl.hostname,
      port: Number(remoteUrl.port),
      protocol: 'https',
      ca: readFileSync(join(certPath, 'ca.pem')),
      cert: readFileSync(join(certPath, 'cert.pem')),
      key: readFileSync(join(certPath, 'key.pem')),
    });
    const labelLocal = `berth.runner.short_token=${shortToken(tokenLocal)}`;
    const labelRemote = `berth.runner.short_token=${shortToken(tokenRemote)}`;

    const jobs: { job: TestJob; where: 'local' | 'remote' }[] = [];
    for (let i = 0; i < JOBS_PER_RUNNER; i++) {
      for (const [where, token] of [['local', tokenLocal], ['remote', tokenRemote]] as const) {
        jobs.push({ where, job: fx.enqueue({ script: [`echo "job ${i} on ${where}"`, 'sleep 4'], runnerToken: token, overrides: { image: null } }) });
      }
    }
    const since = Math.floor(Date.now() / 1000) - 1;
    const run = fx.start([], { DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' });
    await gl.waitFor(() => jobs.every((j) => j.job.final !== null), 110_000, `the final updates of ${jobs.length} jobs`);
    run.child.kill('SIGQUIT');
    expect((await run.result).code).toBe(0);
    const until = Math.ceil(Date.now() / 1000) + 1;

    // Every job: handed out once, one accepted final update, succeeded, its own output.
    for (const { job, where } of jobs) {
      expect(gl.requests.filter((q) => q.endpoint === 'request' && q.status === 201 && q.jobId === job.id)).toHaveLength(1);
      expect(job.final).toMatchObject({ state: 'success' });
      expect(job.trace.toString()).toMatch(new RegExp(`job \\d+ on ${where}\\n`));
    }

    // The engines' side: each job's containers on the engine of its runner, and only there.
    const [localEvents, remoteEvents, crossLocal, crossRemote] = await Promise.all([
      containerEvents(localDocker, labelLocal, since, until),
      containerEvents(remoteDocker, labelRemote, since, until),
      containerEvents(localDocker, labelRemote, since, until),
      containerEvents(remoteDocker, labelLocal, since, until),
    ]);
    expect([crossLocal, crossRemote]).toEqual([[], []]);
    const onLocal = jobIntervals(localEvents);
    const onRemote = jobIntervals(remoteEvents);
    const idsOf = (where: string): string[] => jobs.filter((j) => j.where === where).map((j) => String(j.job.id)).sort();
    expect([...onLocal.keys()].sort()).toEqual(idsOf('local'));
    expect([...onRemote.keys()].sort()).toEqual(idsOf('remote'));
    // One build container per job (no services): it ran once.
    for (const i of [...onLocal.values(), ...onRemote.values()]) {
      expect(i.containers.size).toBe(1);
      expect(Number.isFinite(i.from) && Number.isFinite(i.to)).toBe(true);
    }
    const peaks = {
      local: peak([...onLocal.values()]),
      remote: peak([...onRemote.values()]),
      total: peak([...onLocal.values(), ...onRemote.values()]),
    };
    // Never exceeded, and reached (the test would not notice a broken limit that is never approached).
    expect(peaks).toEqual({ local: LIMIT, remote: LIMIT, total: CONCURRENT });

    // GitLab's side: a job holds its slot from hand-out to final update.
    const held = (token: string | null): { from: number; to: number }[] =>
      jobs
        .filter((j) => token === null || (j.where === 'local' ? tokenLocal : tokenRemote) === token)
        .map(({ job }) => ({
          from: gl.requests.find((q) => q.endpoint === 'request' && q.status === 201 && q.jobId === job.id)!.at,
          to: gl.requests.find((q) => q.endpoint === 'update' && q.status === 200 && q.jobId === job.id && (q.json as { state?: string }).state === 'success')!.at,
        }));
    expect(peak(held(tokenLocal))).toBeLessThanOrEqual(LIMIT);
    expect(peak(held(tokenRemote))).toBeLessThanOrEqual(LIMIT);
    expect(peak(held(null))).toBeLessThanOrEqual(CONCURRENT);

    const local = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' });
    const remoteEngine = new DockerodeEngine({ host, tlsVerify: true, tlsCertPath: certPath });
    expect(await findLeftovers(local, labelLocal)).toEqual(NO_LEFTOVERS);
    expect(await findLeftovers(remoteEngine, labelRemote)).toEqual(NO_LEFTOVERS);
    process.stdout.write(`two engines: peaks ${JSON.stringify(peaks)} (limit ${LIMIT} each, concurrent ${CONCURRENT}), ${jobs.length} jobs\n`);
  }, 150_000);
});
