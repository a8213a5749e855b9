/**
 * berth exec with include:remote (a self-signed https server on 127.0.0.1, trusted with
 * --include-ca, cached in --include-cache) and include:project (a local checkout mapped with
 * --include-project): the included jobs run in Docker; offline, the cache stands in; without
 * a cache, an unreachable include is skipped with a warning naming file, line and URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { startHttpsTestServer, type HttpsTestServer } from '../support/https-test-server.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
let server: HttpsTestServer;
let cache: string;

beforeAll(async () => {
  server = await startHttpsTestServer();
  cache = mkdtempSync(join(tmpdir(), 'berth-e2e-include-cache-'));
});
afterAll(async () => {
  await server.close();
  await server.cleanup();
  repos.forEach((r) => r.remove());
  rmSync(cache, { recursive: true, force: true });
});

function repo(files: Record<string, string>): string {
  const r = makeRepo(files);
  repos.push(r);
  return r.dir;
}

describe('berth exec: include:remote and include:project', () => {
  it('runs jobs from a remote file and from another project, works offline from the cache, and exits 2 without one', async () => {
    server.routes.set('/shared/ci.yml', { body: 'remote-job:\n  image: berth-test/bash:latest\n  script: [echo "remote-job ran"]\n' });
    const lib = repo({ 'ci/lib.yml': 'project-job:\n  image: berth-test/bash:latest\n  script: [echo "project-job ran"]\n' });
    const dir = repo({ '.gitlab-ci.yml': `include:\n  - remote: ${server.url}/shared/ci.yml\n  - project: group/lib\n    file: ci/lib.yml\n` });
    const flags = ['--include-cache', cache, '--include-ca', server.caFile, '--include-project', `group/lib=${lib}`, '--no-color'];

    const res = await runBerth(['exec', '--cwd', dir, ...flags], { timeoutMs: 120_000 });
    expect(res.stderr).not.toMatch(/warning/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^remote-job.*remote-job ran$/m);
    expect(res.stdout).toMatch(/^project-job.*project-job ran$/m);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);

    await server.close();
    const offline = await runBerth(['exec', '--cwd', dir, '--list', ...flags]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('remote-job');
    expect(offline.stderr).toContain(`berth: warning: .gitlab-ci.yml:2: include:remote "${server.url}/shared/ci.yml": cannot be fetched (ECONNREFUSED); using the cached copy from ${cache}`);

    const noCache = await runBerth(['exec', '--cwd', dir, '--list', ...flags.slice(2), '--include-cache', join(cache, 'empty')]);
    // Unreachable and nothing cached: skipped with a warning (the rest of the pipeline still lists).
    expect(noCache.code).toBe(0);
    expect(noCache.stdout).not.toContain('remote-job');
    expect(noCache.stderr).toContain(`berth: warning: .gitlab-ci.yml:2: include:remote "${server.url}/shared/ci.yml": cannot be fetched (ECONNREFUSED), and there is no cached copy`);
    expect(noCache.stderr).toContain('it is skipped, so the jobs and templates it defines are missing');
  });
});
