import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsGuardError } from './fs-guard-error.js';
import { readRegularFile, resolveInside } from './guarded-read.js';

let base: string;
let repo: string;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'berth-guard-')));
  repo = join(base, 'repo');
  mkdirSync(join(repo, 'sub'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside/hosts.yml'), 'token: SECRET\n');
  writeFileSync(join(repo, 'sub/a.yml'), 'a: 1\n');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

async function refusal(p: Promise<unknown>): Promise<FsGuardError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(FsGuardError);
  return err as FsGuardError;
}

describe('resolveInside', () => {
  it('resolves files and links that stay in the repository', async () => {
    symlinkSync('sub', join(repo, 'alias'));
    expect(await resolveInside(repo, join(repo, 'alias/a.yml'))).toBe(join(repo, 'sub/a.yml'));
    expect(await resolveInside(repo, join(repo, 'missing.yml'))).toBeNull();
  });

  it('refuses a directory link that leads outside', async () => {
    symlinkSync(join(base, 'outside'), join(repo, 'cfg'));
    const err = await refusal(resolveInside(repo, join(repo, 'cfg/hosts.yml')));
    expect(err.reason).toBe('outside');
    expect(err.message).toContain(join(base, 'outside/hosts.yml'));
    expect(err.message).not.toContain('SECRET');
  });

  it('refuses a file link that leads outside, and link loops', async () => {
    symlinkSync(join(base, 'outside/hosts.yml'), join(repo, 'hosts.yml'));
    expect((await refusal(resolveInside(repo, join(repo, 'hosts.yml')))).reason).toBe('outside');
    symlinkSync('loop2', join(repo, 'loop1'));
    symlinkSync('loop1', join(repo, 'loop2'));
    expect((await refusal(resolveInside(repo, join(repo, 'loop1')))).reason).toBe('symlink');
  });
});

describe('readRegularFile', () => {
  it('reads a regular file', async () => {
    expect((await readRegularFile(join(repo, 'sub/a.yml'), { maxBytes: 100 })).toString()).toBe('a: 1\n');
  });

  it('refuses /dev/zero, a FIFO and a directory without reading them', async () => {
    execFileSync('mkfifo', [join(repo, 'fifo.yml')]);
    for (const path of ['/dev/zero', join(repo, 'fifo.yml'), repo]) {
      expect((await refusal(readRegularFile(path, { maxBytes: 100 }))).reason).toBe('not-regular');
    }
  }, 5000);

  it('stops at the size bound', async () => {
    writeFileSync(join(repo, 'big.yml'), 'x'.repeat(101));
    expect((await refusal(readRegularFile(join(repo, 'big.yml'), { maxBytes: 100 }))).reason).toBe('too-large');
  });

  it('refuses a link as the last component with nofollow', async () => {
    symlinkSync('sub/a.yml', join(repo, 'l.yml'));
    expect((await refusal(readRegularFile(join(repo, 'l.yml'), { maxBytes: 100, nofollow: true }))).reason).toBe('symlink');
  });
});
