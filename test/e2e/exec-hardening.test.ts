/**
 * `berth exec` against hostile or careless input (issue 8): secrets handed on the command line,
 * a repository's own git configuration, huge job output, inputs that are not files, engines
 * that answer oddly. Each test builds its hostile repository itself.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth, startBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const docker = new Docker();
const repos: FixtureRepo[] = [];

function repo(files: Record<string, string>, opts?: Parameters<typeof makeRepo>[1]): string {
  const r = makeRepo(files, opts);
  repos.push(r);
  return r.dir;
}

afterAll(() => repos.forEach((r) => r.remove()));

describe('berth exec: --variable values are secrets (issue 8, finding 8)', () => {
  it('keeps --variable out of the container environment (docker inspect) but gives it to the script; --public-variable is in both', async () => {
    const dir = repo({
      '.gitlab-ci.yml': [
        'job:',
        '  image: berth-test/busybox:latest',
        '  script:',
        '    - echo "script-sees=$SECRET_TOKEN public=$SHOWN"',
        '    - echo ready-for-inspect',
        '    - while [ ! -f /tmp/go ]; do sleep 0.2; done',
        '',
      ].join('\n'),
    });
    const cli = startBerth(['exec', '--cwd', dir, '--variable', 'SECRET_TOKEN=tok-e2e-4711', '--public-variable', 'SHOWN=in-env']);
    // Whatever happens below, the job must end: it waits for /tmp/go.
    const stop = setTimeout(() => cli.child.kill('SIGINT'), 60_000);
    try {
      await cli.waitFor(/ready-for-inspect/);
      const pid = cli.child.pid!;
      const [build] = (await engine.listContainers([`berth.exec.pid=${pid}`])).filter((c) => c.labels['com.gitlab.gitlab-runner.type'] === 'build');
      expect(build).toBeDefined();
      const inspected = await docker.getContainer(build!.id).inspect();
      const env = inspected.Config.Env ?? [];
      expect(env.some((e) => e.includes('tok-e2e-4711'))).toBe(false);
      expect(env.some((e) => e.startsWith('SECRET_TOKEN='))).toBe(false);
      expect(env).toContain('SHOWN=in-env');
      expect(JSON.stringify(inspected)).not.toContain('tok-e2e-4711');
      await engine.execInContainer(build!.id, ['touch', '/tmp/go']);
    } catch (err) {
      cli.child.kill('SIGINT');
      throw err;
    } finally {
      const res = await cli.result;
      clearTimeout(stop);
      expect(res.stdout).toMatch(/^job\s+\| script-sees=tok-e2e-4711 public=in-env$/m);
      expect(res.code).toBe(0);
      expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
    }
  });
});

describe("berth exec: the repository's own .git/config runs nothing on the host (issue 8, finding 6)", () => {
  it('ignores core.fsmonitor, filter drivers and hooks of the repository, with --list and with a real job', async () => {
    const markers = mkdtempSync(join(tmpdir(), 'berth-markers-'));
    try {
      const dir = repo({
        '.gitlab-ci.yml': 'job:\n  image: berth-test/busybox:latest\n  script: [cat data.txt]\n',
        '.gitattributes': '* filter=evil diff=evil\n',
        'data.txt': 'tracked content\n',
      });
      // Filters pass their input through; the others read nothing (so that old code fails rather than hangs).
      const hook = (name: string, filter = false): string => {
        const path = join(markers, `${name}.sh`);
        writeFileSync(path, `#!/bin/sh\ntouch '${markers}/ran-${name}'\n${filter ? 'cat' : 'exit 1'}\n`);
        chmodSync(path, 0o755);
        return path;
      };
      const git = (...args: string[]): void => void execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
      git('config', 'core.fsmonitor', hook('fsmonitor'));
      git('config', 'filter.evil.clean', hook('clean', true));
      git('config', 'filter.evil.smudge', hook('smudge', true));
      git('config', 'filter.evil.process', hook('process'));
      git('config', 'diff.evil.textconv', hook('textconv'));
      git('config', 'core.pager', hook('pager'));
      for (const h of ['post-index-change', 'reference-transaction', 'post-checkout']) {
        writeFileSync(join(dir, '.git', 'hooks', h), `#!/bin/sh\ntouch '${markers}/ran-hook-${h}'\n`);
        chmodSync(join(dir, '.git', 'hooks', h), 0o755);
      }
      // An uncommitted change makes git look at the working tree (refresh, clean filter).
      writeFileSync(join(dir, 'data.txt'), 'changed content\n');

      const list = await runBerth(['exec', '--cwd', dir, '--list'], { timeoutMs: 30_000 });
      expect(list.code).toBe(0);
      const res = await runBerth(['exec', '--cwd', dir], { timeoutMs: 60_000 });
      expect(res.stdout).toMatch(/^job\s+\| changed content$/m);
      expect(res.code).toBe(0);
      expect(readdirSync(markers).filter((f) => f.startsWith('ran-'))).toEqual([]);
      expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
    } finally {
      rmSync(markers, { recursive: true, force: true });
    }
  });
});

describe('berth exec: a job log has a size limit (issue 8, finding 7)', () => {
  it('stops the log file and the terminal at --output-limit with GitLab\'s notice; the job keeps running and keeps its result', async () => {
    const dir = repo({
      '.gitlab-ci.yml': [
        'flood:',
        '  image: berth-test/busybox:latest',
        '  script:',
        "    - head -c 300000 /dev/zero | tr '\\0' x | fold -w 99",
        '    - echo after-the-limit',
        '    - exit 4',
        '',
      ].join('\n'),
    });
    const res = await runBerth(['exec', '--cwd', dir, '--output-limit', '64', '--report', join(dir, 'report.json')], { timeoutMs: 120_000 });
    expect(res.code).toBe(1);
    const notice = "Job's log exceeded limit of 65536 bytes.\nJob execution will continue but no more output will be collected.\n";
    const log = readFileSync(join(dir, '.berth', 'logs', 'flood.log'), 'utf8');
    expect(log.endsWith(notice)).toBe(true);
    expect(Buffer.byteLength(log)).toBeLessThanOrEqual(65536 + notice.length + 1);
    expect(log).not.toContain('after-the-limit');
    expect(res.stdout).toContain("flood | Job's log exceeded limit of 65536 bytes.");
    expect(res.stdout).not.toContain('after-the-limit');
    expect(res.stdout.length).toBeLessThan(200_000);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { jobs: { name: string; exitCode: number; status: string }[] };
    expect(report.jobs[0]).toMatchObject({ name: 'flood', status: 'failed', exitCode: 4 });
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('defaults to 4096 KiB and says so in --help', async () => {
    const res = await runBerth(['exec', '--help']);
    expect(res.stdout).toMatch(/--output-limit <KiB>[\s\S]*\(default: 4096\)/);
  });
});

describe('berth exec: errors that say what happened (issue 8, finding 10)', () => {
  it('names the endpoint when something that is not a Docker engine answers 404 without a message', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    try {
      const dir = repo({ '.gitlab-ci.yml': 'job:\n  image: berth-test/busybox:latest\n  script: [echo hi]\n' });
      const res = await runBerth(['exec', '--cwd', dir], { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` }, timeoutMs: 60_000 });
      expect(res.code).toBe(2);
      expect(res.stderr).toBe(
        `berth: error: berth exec cannot run jobs: the Docker engine at tcp://127.0.0.1:${port} cannot be used: ping: the Docker engine endpoint answered HTTP 404 without a message; ` +
          'check that DOCKER_HOST (or [runners.docker] host) points at a Docker engine API\n',
      );
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });

  it('exits 2 before anything runs for an invalid image reference, naming file, job and key', async () => {
    const dir = repo({
      '.gitlab-ci.yml': 'first:\n  image: berth-test/busybox:latest\n  script: [echo ran-first]\nsecond:\n  image: berth-test/BusyBox:latest\n  script: [echo hi]\n',
    });
    const res = await runBerth(['exec', '--cwd', dir], { timeoutMs: 60_000 });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      'berth: error: .gitlab-ci.yml: job "second": image: invalid image reference "berth-test/BusyBox:latest": the repository name must be lowercase; fix the image name\n',
    );
    expect(res.stdout).not.toContain('ran-first');
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('exits 2 with a clear message, without reading it, for a pipeline file that is a device', async () => {
    const dir = repo({ '.gitlab-ci.yml': 'job: {script: [echo hi]}\n' });
    const res = await runBerth(['exec', '--cwd', dir, '--file', '/dev/zero', '--list'], { timeoutMs: 30_000 });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe('berth: error: /dev/zero is a device, not a regular file; a pipeline file or include must be a YAML file\n');
  });
});
