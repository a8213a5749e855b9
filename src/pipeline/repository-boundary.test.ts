/**
 * Regression tests for issue 8, finding 2: the pipeline reads nothing outside the repository
 * through links (include:local plain and wildcard, the pipeline file itself), and files are read
 * only when they are regular files.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { compilePipeline } from './compile-pipeline.js';
import { fakeGit, jobNames, TEST_NOW } from '../../test/support/project-factory.js';

let base: string;
let outside: string;
const HOSTS = 'secrets:\n  token: [HOST-TOKEN-123]\n';

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'berth-boundary-'));
  outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'hosts.yml'), HOSTS);
  writeFileSync(join(outside, 'pipeline.yml'), 'leak: {script: [!reference [.secrets, token]]}\n.' + HOSTS);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
function project(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = join(base, `p${++n}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(dir, { recursive: true });
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(dir, path));
  return dir;
}

function compile(dir: string, file?: string) {
  return compilePipeline({ cwd: dir, file, git: fakeGit(dir), pipelineId: 1, now: TEST_NOW, listFiles: false });
}

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).not.toContain('HOST-TOKEN-123');
  return err as InputError;
}

describe('reads stay inside the repository', () => {
  it('refuses include:local through a folder link that leads outside (cfg -> /outside)', async () => {
    const dir = project(
      { '.gitlab-ci.yml': 'include: {local: cfg/hosts.yml}\njob: {script: [!reference [secrets, token]]}\n' },
      { cfg: outside },
    );
    const err = await inputError(compile(dir));
    expect(err.message).toMatch(/^\.gitlab-ci\.yml:1: include:local "cfg\/hosts\.yml": Refusing to read .*cfg\/hosts\.yml: it resolves through a symbolic link to .*outside\/hosts\.yml, outside the repository/);
  });

  it('refuses include:local naming a file link that leads outside', async () => {
    const dir = project({ '.gitlab-ci.yml': 'include: hosts.yml\njob: {script: x}\n' }, { 'hosts.yml': join(outside, 'hosts.yml') });
    expect((await inputError(compile(dir))).message).toContain('outside the repository');
  });

  it('refuses a wildcard include whose folder is a link outside, and one that matches a link outside', async () => {
    const viaDir = project({ '.gitlab-ci.yml': 'include: cfg/*.yml\njob: {script: x}\n' }, { cfg: outside });
    expect((await inputError(compile(viaDir))).message).toMatch(/include:local "cfg\/\*\.yml": Refusing to read/);
    const viaFile = project({ '.gitlab-ci.yml': 'include: ci/*.yml\njob: {script: x}\n', 'ci/a.yml': 'a: {script: x}\n' }, { 'ci/h.yml': join(outside, 'hosts.yml') });
    expect((await inputError(compile(viaFile))).message).toContain('outside the repository');
  });

  it('does not descend into folder links with ** (GitLab sees a link as a file)', async () => {
    const dir = project({ '.gitlab-ci.yml': 'include: ci/**.yml\njob: {script: x}\n', 'ci/a.yml': 'a: {script: x}\n' }, { 'ci/ext': outside });
    expect(jobNames(await compile(dir))).toEqual(['a', 'job']);
  });

  it('still follows links that stay inside the repository', async () => {
    const dir = project({ '.gitlab-ci.yml': 'include: [alias/a.yml, alias/*.yml]\njob: {script: x}\n', 'real/a.yml': 'a: {script: x}\n' }, { alias: 'real' });
    expect(jobNames(await compile(dir))).toEqual(['a', 'job']);
  });

  it('refuses a .gitlab-ci.yml that is a link outside, unless named with --file', async () => {
    const dir = project({}, { '.gitlab-ci.yml': join(outside, 'pipeline.yml') });
    const err = await inputError(compile(dir));
    expect(err.message).toMatch(/^\.gitlab-ci\.yml:1: Refusing to read .* outside the repository .*--file/);
    const named = await compile(dir, join(outside, 'pipeline.yml'));
    expect(jobNames(named)).toEqual(['leak']);
  });

  it('an explicit --file outside the repository still may not include through links outside', async () => {
    writeFileSync(join(outside, 'main.yml'), 'include: cfg/hosts.yml\njob: {script: x}\n');
    const dir = project({ 'x.txt': '' }, { cfg: outside });
    expect((await inputError(compile(dir, join(outside, 'main.yml')))).message).toContain('outside the repository');
  });

  it('refuses an include that is a FIFO or a device without reading it', async () => {
    const dir = project({ '.gitlab-ci.yml': 'include: [fifo.yml]\njob: {script: x}\n' }, { 'zero.yml': '/dev/zero' });
    execFileSync('mkfifo', [join(dir, 'fifo.yml')]);
    expect((await inputError(compile(dir))).message).toContain('not a regular file');
    writeFileSync(join(dir, '.gitlab-ci.yml'), 'include: [zero.yml]\njob: {script: x}\n');
    expect((await inputError(compile(dir))).message).toContain('outside the repository');
    const named = await inputError(compile(dir, '/dev/zero'));
    expect(named.message).toContain('not a regular file');
  }, 10_000);

  it('leaves the outside files as they were', () => {
    expect(readFileSync(join(outside, 'hosts.yml'), 'utf8')).toBe(HOSTS);
  });
});
