/**
 * Issue 8, findings 1, 2, 5 and 9, end to end: `berth exec` on repositories built to reach the
 * host through links. Each case checks the exit code and message, and that the file outside the
 * repository was neither read into the run nor written (content and mtime unchanged).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { runBerth, startBerth, type CliResult } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
const outsideBase = mkdtempSync(join(tmpdir(), 'berth-outside-'));
afterAll(() => {
  repos.forEach((r) => r.remove());
  rmSync(outsideBase, { recursive: true, force: true });
});

const JOB = 'job:\n  image: berth-test/bash:latest\n  script: [echo "HOSTILE LINE"]\n';
const OLD = new Date('2020-01-01T00:00:00Z');
let outside: string;
let victim: string;
let n = 0;

beforeEach(() => {
  outside = join(outsideBase, `o${++n}`);
  mkdirSync(outside);
  victim = join(outside, 'victim.sh');
  writeFileSync(victim, '#!/bin/sh\necho host script\n');
  execFileSync('touch', ['-d', OLD.toISOString(), victim]);
});

/** A committed repository with `links` (path → target) committed too. */
function repo(files: Record<string, string>, links: Record<string, string> = {}): string {
  const r = makeRepo(files);
  repos.push(r);
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(r.dir, path, '..'), { recursive: true });
    symlinkSync(target, join(r.dir, path));
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: r.dir, stdio: 'ignore' });
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', 'links');
  return r.dir;
}

function outsideUntouched(): void {
  expect(readFileSync(victim, 'utf8')).toBe('#!/bin/sh\necho host script\n');
  expect(statSync(victim).mtime.getTime()).toBe(OLD.getTime());
  expect(readdirSync(outside)).toEqual(['victim.sh']);
}

async function refusedBeforeRunning(res: CliResult): Promise<void> {
  expect(res.code).toBe(2);
  expect(res.stdout).not.toContain('HOSTILE LINE');
  expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
}

describe('berth exec writes nothing outside the repository (finding 1)', () => {
  it('refuses a committed .berth/logs/<job>.log link to a host file, before running anything', async () => {
    const dir = repo({ '.gitlab-ci.yml': JOB }, { '.berth/logs/job.log': victim });
    const res = await runBerth(['exec', '--cwd', dir]);
    expect(res.stderr).toMatch(/berth: error: Refusing to use .*\.berth\/logs\/job\.log: it is a symbolic link \(to .*victim\.sh\), and berth never follows links inside the repository/);
    await refusedBeforeRunning(res);
    outsideUntouched();
  });

  it('refuses a committed .berth link to another folder', async () => {
    const dir = repo({ '.gitlab-ci.yml': JOB }, { '.berth': outside });
    const res = await runBerth(['exec', '--cwd', dir]);
    expect(res.stderr).toMatch(/Refusing to use .*\/\.berth: it is a symbolic link/);
    await refusedBeforeRunning(res);
    outsideUntouched();
  });

  it('refuses a --report path inside the repository that goes through a committed link', async () => {
    const dir = repo({ '.gitlab-ci.yml': JOB }, { out: outside });
    const res = await runBerth(['exec', '--cwd', dir, '--report', join(dir, 'out/victim.sh')]);
    expect(res.stderr).toMatch(/Refusing to use .*\/out: it is a symbolic link/);
    await refusedBeforeRunning(res);
    outsideUntouched();
  });
});

describe('links into /proc fail at once, Ctrl-C-able (finding 5)', () => {
  it('a .berth link into /proc', async () => {
    const dir = repo({ '.gitlab-ci.yml': JOB }, { '.berth': '/proc/self/fd/0/x' });
    const started = Date.now();
    const res = await runBerth(['exec', '--cwd', dir]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(res.stderr).toContain('is a symbolic link');
    await refusedBeforeRunning(res);
  }, 20_000);

  it('--report /proc/x/y.json', async () => {
    const dir = repo({ '.gitlab-ci.yml': JOB });
    const cli = startBerth(['exec', '--cwd', dir, '--report', '/proc/berth-nonexistent/y.json']);
    const timer = setTimeout(() => cli.child.kill('SIGKILL'), 15_000);
    const res = await cli.result;
    clearTimeout(timer);
    expect(res.signal).toBeNull();
    expect(res.stderr).toMatch(/Cannot create the directory \/proc\/berth-nonexistent/);
    await refusedBeforeRunning(res);
  }, 20_000);
});

describe('berth exec reads nothing outside the repository (finding 2)', () => {
  it('refuses include:local through a committed cfg -> /outside link', async () => {
    writeFileSync(join(outside, 'hosts.yml'), '.hosts:\n  token: [echo HOST-TOKEN-42]\n');
    const dir = repo(
      { '.gitlab-ci.yml': `include: {local: cfg/hosts.yml}\n${JOB}  after_script: [!reference [.hosts, token]]\n` },
      { cfg: outside },
    );
    const res = await runBerth(['exec', '--cwd', dir]);
    expect(res.stderr).toMatch(/\.gitlab-ci\.yml:1: include:local "cfg\/hosts\.yml": Refusing to read .* outside the repository/);
    expect(res.stdout + res.stderr).not.toContain('HOST-TOKEN-42');
    await refusedBeforeRunning(res);
  });

  it('refuses a wildcard include through a link', async () => {
    writeFileSync(join(outside, 'a.yml'), '.x: {script: [echo HOST-TOKEN-42]}\n');
    const dir = repo({ '.gitlab-ci.yml': `include: cfg/*.yml\n${JOB}` }, { cfg: outside });
    const res = await runBerth(['exec', '--cwd', dir, '--list']);
    expect(res.stderr).toMatch(/include:local "cfg\/\*\.yml": Refusing to read/);
    expect(res.code).toBe(2);
  });

  it('refuses a committed .gitlab-ci.yml link out of the repository unless named with --file', async () => {
    writeFileSync(join(outside, 'pipeline.yml'), JOB);
    const dir = repo({ 'README': 'x\n' }, { '.gitlab-ci.yml': join(outside, 'pipeline.yml') });
    const res = await runBerth(['exec', '--cwd', dir, '--list']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Refusing to read .*\.gitlab-ci\.yml: it resolves through a symbolic link to .*pipeline\.yml, outside the repository .*--file/);
    const named = await runBerth(['exec', '--cwd', dir, '--list', '--file', join(outside, 'pipeline.yml')]);
    expect(named.code).toBe(0);
  });

  it('refuses to copy a tracked file whose folder was replaced by a link', async () => {
    const dir = repo({ '.gitlab-ci.yml': 'job:\n  image: berth-test/bash:latest\n  script: [cat lib/victim.sh]\n', 'lib/victim.sh': 'repo copy\n' });
    rmSync(join(dir, 'lib'), { recursive: true });
    symlinkSync(outside, join(dir, 'lib'));
    const res = await runBerth(['exec', '--cwd', dir]);
    expect(res.stderr).toMatch(/Refusing to copy lib\/victim\.sh into the jobs: its folder lib is a symbolic link/);
    expect(res.stdout).not.toContain('host script');
    await refusedBeforeRunning(res);
  });
});

describe('job log names (finding 9)', () => {
  it('gives a b, a_b and a/b their own log files', async () => {
    const job = (name: string) => `"${name}":\n  image: berth-test/bash:latest\n  script: [echo "I am <${name}>"]\n`;
    const dir = repo({ '.gitlab-ci.yml': ['a b', 'a_b', 'a/b'].map(job).join('') });
    const res = await runBerth(['exec', '--cwd', dir, '--concurrency', '1']);
    expect(res.code).toBe(0);
    const logs = readdirSync(join(dir, '.berth/logs')).sort();
    expect(logs).toHaveLength(3);
    expect(logs).toContain('a_b.log');
    const texts = logs.map((f) => readFileSync(join(dir, '.berth/logs', f), 'utf8'));
    for (const name of ['a b', 'a_b', 'a/b']) expect(texts.filter((t) => t.includes(`I am <${name}>`))).toHaveLength(1);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });
});

it('has written nothing under the outside folders', () => {
  expect(existsSync(join(outsideBase, 'o1', '.berth'))).toBe(false);
});
