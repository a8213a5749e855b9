/**
 * The runner image (berth/runner:dev, built by scripts/build-runner-image.sh): berth in a
 * container drives the host's engine through the mounted socket. `berth exec` runs a pipeline
 * with a service (berth's container joins the job network for the health check and leaves it)
 * and a job without one; nothing is left behind.
 *
 * The exec run mounts the current dist/berth.mjs (and its dist/chunks) over the image's copy, so that it tests the
 * code under test in the image's environment (an image built before the last change would
 * otherwise test old code); the image's own copy is run by the --version test.
 */
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { BERTH_MAIN } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { testRunLabel } from '../support/job-fixtures.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const IMAGE = 'berth/runner:dev';
const SOCKET = '/var/run/docker.sock';
const engine = new DockerodeEngine();
const docker = new Docker({ socketPath: SOCKET });
const run = testRunLabel();
const repos: FixtureRepo[] = [];

interface Finished {
  id: string;
  code: number;
  stdout: string;
  stderr: string;
  /** Networks the container is still attached to after it exited. */
  networks: string[];
}

/** Runs a container of the runner image to its end; removes it and returns what it printed. */
async function runImage(opts: { cmd: string[]; entrypoint?: string[]; binds?: string[]; hostname?: string }): Promise<Finished> {
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: opts.cmd,
    Entrypoint: opts.entrypoint,
    Hostname: opts.hostname,
    Env: ['NO_COLOR=1'],
    Labels: run.labels,
    HostConfig: { Binds: opts.binds ?? [] },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    const info = await container.inspect();
    return { id: container.id, code: StatusCode, ...demux(logs), networks: Object.keys(info.NetworkSettings.Networks ?? {}) };
  } finally {
    await container.remove({ force: true, v: true });
  }
}

/** Splits the engine's multiplexed log (8-byte frame headers: stream, 0, 0, 0, length). */
function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    (buf[i] === 2 ? err : out).push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Network events of one container between two times (seconds), as "action network-name". */
async function networkEvents(containerId: string, since: number, until: number): Promise<string[]> {
  const stream = await docker.getEvents({ since, until, filters: { type: ['network'] } });
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { Action: string; Actor: { Attributes: Record<string, string> } })
    .filter((e) => e.Actor.Attributes.container === containerId)
    .map((e) => `${e.Action} ${e.Actor.Attributes.name}`);
}

beforeAll(async () => {
  if (!(await engine.inspectImage(IMAGE))) {
    throw new Error(`The runner image ${IMAGE} is missing: build it with scripts/build-runner-image.sh (as root; scripts/setup-test-env.sh does it too).`);
  }
});

afterAll(async () => {
  repos.forEach((r) => r.remove());
  for (const c of await engine.listContainers([run.filter])) await engine.removeContainer(c.id, { force: true });
  expect(await engine.listContainers([run.filter])).toEqual([]);
});

describe('the runner image', () => {
  it('runs its packaged berth, and has git, the credential helpers, pass and gpg', async () => {
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
    const own = await runImage({ cmd: ['--version'] });
    expect(own).toMatchObject({ code: 0, stdout: `${version}\n` });

    const tools = await runImage({
      entrypoint: ['sh', '-c'],
      cmd: ['set -e; git --version; docker-credential-pass version; pass version >/dev/null; gpg --version | head -n 1; node --version; id -u'],
    });
    expect(tools.stderr).toBe('');
    expect(tools.code).toBe(0);
    expect(tools.stdout).toMatch(/^git version \d+\.\d+/m);
    expect(tools.stdout).toMatch(/^\d+\.\d+\.\d+$/m);
    expect(tools.stdout).toMatch(/^gpg \(GnuPG\) \d/m);
    expect(Number(/^v(\d+)\./m.exec(tools.stdout)?.[1])).toBeGreaterThanOrEqual(20);
    expect(tools.stdout).toMatch(/^0$/m);
  });

  it('berth exec in a container: a service job (health check from inside) and a plain job; nothing left behind', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
default: { image: berth-test/busybox:latest }
with-service:
  services:
    - name: berth-test/svc-http:latest
      alias: web
  script: [wget -qO- http://web/]
plain:
  script: [echo "plain ran in $CI_PROJECT_DIR"]
`,
    });
    repos.push(repo);
    const hostname = `berth-e2e-${run.value}`;
    const since = Math.floor(Date.now() / 1000);
    const res = await runImage({
      cmd: ['exec', '--cwd', repo.dir],
      hostname,
      binds: [`${SOCKET}:${SOCKET}`, `${repo.dir}:${repo.dir}`, `${BERTH_MAIN}:/opt/berth/berth.mjs:ro`, `${join(dirname(BERTH_MAIN), 'chunks')}:/opt/berth/chunks:ro`],
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^with-service \| hello from svc-http$/m);
    expect(res.stdout).toMatch(/^plain\s+\| plain ran in \/builds\/group\/demo-project$/m);
    expect(res.stdout).not.toContain("probably didn't start properly");
    expect(res.stdout).toContain('Pipeline succeeded');

    // berth's container joined the job network for the health check, and left it again.
    expect(res.networks).toEqual(['bridge']);
    const events = await networkEvents(res.id, since, Math.floor(Date.now() / 1000) + 1);
    const joined = events.filter((e) => /^connect berth-exec-.*-network$/.test(e));
    expect(joined).toHaveLength(1);
    expect(events).toContain(joined[0]!.replace(/^connect/, 'disconnect'));

    // Everything berth exec made carries its host: the container's hostname.
    expect(await findLeftovers(engine, `berth.exec.host=${hostname}`)).toEqual(NO_LEFTOVERS);
  });
});
