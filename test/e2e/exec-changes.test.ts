/**
 * `berth exec --list --json` with rules:changes and only/except:changes: the built CLI compares
 * the branch with its merge base with main (or --changes-base) plus the uncommitted files, and
 * the skip reasons name the clause that left a job out.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
afterAll(() => repos.forEach((r) => r.remove()));

const PIPELINE = `
default:
  image: berth-test/bash:latest
app:
  script: [echo app]
  rules:
    - changes: ["src/**/*.js"]
docs:
  script: [echo docs]
  rules:
    - changes: [docs/*]
notes:
  script: [echo notes]
  only:
    changes: ["notes/*"]
lint:
  script: [echo lint]
  except:
    changes: ["src/*"]
`;

interface ListJson {
  jobs: { name: string; skip_reason: string | null }[];
  warnings: string[];
}

describe('berth exec: rules:changes and only/except:changes', () => {
  it('--list --json: jobs in or out by the changed files, with the clause as the skip reason; --changes-base moves the base', async () => {
    const repo = makeRepo({ '.gitlab-ci.yml': PIPELINE, 'src/app.js': 'v1\n', 'docs/a.md': 'a\n' });
    repos.push(repo);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.dir, stdio: 'ignore' });
    git('tag', 'start');
    git('checkout', '-q', '-b', 'feature');
    writeFileSync(join(repo.dir, 'src/app.js'), 'v2\n');
    git('commit', '-q', '-am', 'Change the app');
    git('tag', 'after-app');
    writeFileSync(join(repo.dir, 'docs/a.md'), 'uncommitted\n');

    const res = await runBerth(['exec', '--cwd', repo.dir, '--list', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout) as ListJson;
    expect(doc.jobs.map((j) => [j.name, j.skip_reason])).toEqual([
      ['app', null],
      ['docs', null],
      ['notes', 'only:changes: no changed path matches notes/*'],
      ['lint', 'except:changes: a path changed (src/app.js)'],
    ]);

    const moved = await runBerth(['exec', '--cwd', repo.dir, '--list', '--json', '--changes-base', 'after-app']);
    expect(moved.code).toBe(0);
    expect((JSON.parse(moved.stdout) as ListJson).jobs.map((j) => [j.name, j.skip_reason])).toEqual([
      ['docs', null],
      ['lint', null],
      ['app', 'rules: no rule matched'],
      ['notes', 'only:changes: no changed path matches notes/*'],
    ]);

    const bad = await runBerth(['exec', '--cwd', repo.dir, '--list', '--changes-base', 'no-such-ref']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--changes-base: "no-such-ref" is not a branch, tag or commit');
    for (const r of [res, moved, bad]) expect(await findLeftovers(engine, `berth.exec.pid=${r.pid}`)).toEqual(NO_LEFTOVERS);
  });
});
