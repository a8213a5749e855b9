import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
afterAll(() => repos.forEach((r) => r.remove()));

describe('berth exec: coverage: (end to end)', () => {
  it('finds each job\'s coverage in its log as GitLab does, shows it in the summary and the report; a runaway pattern is stopped', async () => {
    const r = makeRepo({
      '.gitlab-ci.yml': `
default: { image: berth-test/busybox:latest }
unit:
  script:
    - 'echo "Coverage: 12.5%"'
    - 'echo "TOTAL    120    9    91.50%"'
  coverage: '/^TOTAL.+?(\\d+\\.\\d+\\%)$/'
lint:
  script: [echo "no figure here"]
  coverage: '/Coverage: \\d+%/'
runaway:
  script: [echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!]
  coverage: '/^(a+)+$/'
plain:
  script: ['echo "Coverage: 50%"']
`,
    });
    repos.push(r);
    const res = await runBerth(['exec', '--cwd', r.dir, '--report', join(r.dir, 'report.json')]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^PASS\s+unit\s+stage test, coverage 91.5%, /m);
    expect(res.stdout).toMatch(/^PASS\s+lint\s+stage test, \d/m);
    expect(res.stdout).toMatch(/^PASS\s+plain\s+stage test, \d/m);
    expect(res.stderr).toMatch(/berth: warning: job "runaway": the coverage regular expression \/\^\(a\+\)\+\$\/ took longer than 2 s on the job log; no coverage recorded/);
    const report = JSON.parse(readFileSync(join(r.dir, 'report.json'), 'utf8')) as { jobs: { name: string; coverage: number | null }[] };
    expect(Object.fromEntries(report.jobs.map((j) => [j.name, j.coverage]))).toEqual({ unit: 91.5, lint: null, runaway: null, plain: null });
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });
});
