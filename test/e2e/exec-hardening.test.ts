/**
 * `berth exec` against hostile or careless input (issue 8): secrets handed on the command line,
 * a repository's own git configuration, huge job output, inputs that are not files, engines
 * that answer oddly. Each test builds its hostile repository itself.
 */
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/docker/dockerode-engine.js';
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
    } finally {
      const res = await cli.result;
      expect(res.stdout).toMatch(/^job\s+\| script-sees=tok-e2e-4711 public=in-env$/m);
      expect(res.code).toBe(0);
      expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
    }
  });
});
