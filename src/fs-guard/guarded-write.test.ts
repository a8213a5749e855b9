import { execFileSync } from 'node:child_process';
import { closeSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsGuardError } from './fs-guard-error.js';
import { ensureDirUnder } from './guarded-dir.js';
import { checkWritableUnder, openForWriteUnder, writeFileUnder } from './guarded-write.js';

let base: string;
let repo: string;
let outside: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'berth-guard-'));
  repo = join(base, 'repo');
  outside = join(base, 'outside');
  mkdirSync(repo);
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), 'host content\n');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

async function refusal(p: Promise<unknown>): Promise<FsGuardError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(FsGuardError);
  return err as FsGuardError;
}

function untouched(): void {
  expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('host content\n');
  expect(execFileSync('ls', ['-A', outside], { encoding: 'utf8' })).toBe('victim\n');
}

describe('writeFileUnder', () => {
  it('creates the parents and writes, replacing an earlier content', async () => {
    await writeFileUnder(repo, '.berth/logs/a.log', 'first, longer\n');
    await writeFileUnder(repo, '.berth/logs/a.log', 'second\n');
    expect(readFileSync(join(repo, '.berth/logs/a.log'), 'utf8')).toBe('second\n');
    expect(statSync(join(repo, '.berth')).mode & 0o777).toBe(0o755);
  });

  it('refuses a file that is a symbolic link and leaves its target alone', async () => {
    mkdirSync(join(repo, '.berth/logs'), { recursive: true });
    symlinkSync(join(outside, 'victim'), join(repo, '.berth/logs/job.log'));
    const err = await refusal(writeFileUnder(repo, '.berth/logs/job.log', 'echo pwned\n'));
    expect(err.reason).toBe('symlink');
    expect(err.message).toContain(join(repo, '.berth/logs/job.log'));
    expect(err.message).toContain('symbolic link');
    untouched();
  });

  it('refuses a dangling link (it would create the target)', async () => {
    symlinkSync(join(outside, 'new-file'), join(repo, 'out.json'));
    expect((await refusal(writeFileUnder(repo, 'out.json', 'x'))).reason).toBe('symlink');
    untouched();
  });

  it('refuses a parent directory that is a link, at any depth', async () => {
    symlinkSync(outside, join(repo, '.berth'));
    expect((await refusal(writeFileUnder(repo, '.berth/logs/a.log', 'x'))).reason).toBe('symlink');
    rmSync(join(repo, '.berth'));
    mkdirSync(join(repo, '.berth'));
    symlinkSync(outside, join(repo, '.berth/logs'));
    expect((await refusal(writeFileUnder(repo, '.berth/logs/a.log', 'x'))).reason).toBe('symlink');
    untouched();
  });

  it('refuses a link into /proc at once, without spinning', async () => {
    symlinkSync('/proc/self/fd/0/x', join(repo, '.berth'));
    const started = Date.now();
    expect((await refusal(writeFileUnder(repo, '.berth/logs/a.log', 'x'))).reason).toBe('symlink');
    expect(Date.now() - started).toBeLessThan(2000);
  }, 5000);

  it('refuses a hard link to another file and does not truncate it', async () => {
    linkSync(join(outside, 'victim'), join(repo, 'hard.log'));
    expect((await refusal(writeFileUnder(repo, 'hard.log', 'x'))).reason).toBe('hard-link');
    untouched();
  });

  it('refuses a FIFO without blocking, and a directory', async () => {
    execFileSync('mkfifo', [join(repo, 'fifo.log')]);
    expect((await refusal(writeFileUnder(repo, 'fifo.log', 'x'))).reason).toBe('not-regular');
    mkdirSync(join(repo, 'dir.log'));
    expect((await refusal(writeFileUnder(repo, 'dir.log', 'x'))).reason).toBe('not-regular');
  });

  it('refuses paths that leave the root', async () => {
    expect((await refusal(writeFileUnder(repo, '../outside/victim', 'x'))).reason).toBe('outside');
    expect((await refusal(writeFileUnder(repo, '/etc/passwd', 'x'))).reason).toBe('bad-path');
    untouched();
  });

  it('follows links in the root itself (the user named it)', async () => {
    symlinkSync(repo, join(base, 'repo-link'));
    await writeFileUnder(join(base, 'repo-link'), 'a.txt', 'ok');
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('ok');
  });
});

describe('openForWriteUnder', () => {
  it('returns a descriptor of the new file, truncated', async () => {
    writeFileSync(join(repo, 'a.log'), 'old old old');
    const fd = await openForWriteUnder(repo, 'a.log');
    writeSync(fd, 'new');
    closeSync(fd);
    expect(readFileSync(join(repo, 'a.log'), 'utf8')).toBe('new');
  });

  it('with append keeps what the file holds and writes after it; links are still refused', async () => {
    writeFileSync(join(repo, 'a.log'), 'first run\n');
    const fd = await openForWriteUnder(repo, 'a.log', { append: true });
    writeSync(fd, 'second run\n');
    closeSync(fd);
    expect(readFileSync(join(repo, 'a.log'), 'utf8')).toBe('first run\nsecond run\n');
    symlinkSync(join(base, 'elsewhere.log'), join(repo, 'b.log'));
    expect((await refusal(openForWriteUnder(repo, 'b.log', { append: true }))).reason).toBe('symlink');
  });
});

describe('ensureDirUnder', () => {
  it('refuses a component that is a file', async () => {
    writeFileSync(join(repo, '.berth'), '');
    expect((await refusal(ensureDirUnder(repo, '.berth/logs'))).reason).toBe('not-directory');
  });
});

describe('checkWritableUnder', () => {
  it('passes for missing and regular files, refuses links anywhere on the path, creates nothing', async () => {
    await checkWritableUnder(repo, '.berth/logs/a.log');
    expect(execFileSync('ls', ['-A', repo], { encoding: 'utf8' })).toBe('');
    mkdirSync(join(repo, '.berth/logs'), { recursive: true });
    writeFileSync(join(repo, '.berth/logs/a.log'), 'old');
    await checkWritableUnder(repo, '.berth/logs/a.log');
    symlinkSync(join(outside, 'victim'), join(repo, '.berth/logs/b.log'));
    expect((await refusal(checkWritableUnder(repo, '.berth/logs/b.log'))).reason).toBe('symlink');
    rmSync(join(repo, '.berth'), { recursive: true });
    symlinkSync(outside, join(repo, '.berth'));
    expect((await refusal(checkWritableUnder(repo, '.berth/logs/a.log'))).reason).toBe('symlink');
    untouched();
  });
});
