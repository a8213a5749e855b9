import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsGuardError } from './fs-guard-error.js';
import { prepareUserTarget, writeUserFile } from './user-target.js';

let base: string;
let repo: string;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'berth-guard-')));
  repo = join(base, 'repo');
  mkdirSync(repo);
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside/victim'), 'host\n');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('writeUserFile', () => {
  it('writes outside the repository, creating directories and following the user\'s links', async () => {
    symlinkSync(join(base, 'outside'), join(base, 'mine'));
    await writeUserFile(join(base, 'mine/reports/r.json'), '{}', [repo]);
    expect(readFileSync(join(base, 'outside/reports/r.json'), 'utf8')).toBe('{}');
  });

  it('guards the part of the path inside the repository', async () => {
    symlinkSync(join(base, 'outside'), join(repo, 'out'));
    const err = await writeUserFile(join(repo, 'out/victim'), 'x', [repo]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsGuardError);
    expect((err as FsGuardError).reason).toBe('symlink');
    expect(readFileSync(join(base, 'outside/victim'), 'utf8')).toBe('host\n');
  });

  it('guards the repository also when reached through a link of the user', async () => {
    symlinkSync(repo, join(base, 'repo-link'));
    expect(await prepareUserTarget(join(base, 'repo-link/a/r.json'), [repo])).toEqual({ root: repo, rel: 'a/r.json' });
  });

  it('fails at once on a path into /proc (no recursive mkdir spinning)', async () => {
    const started = Date.now();
    const err = await writeUserFile('/proc/x/y.json', '{}', [repo]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsGuardError);
    expect((err as Error).message).toContain('/proc/x');
    expect(Date.now() - started).toBeLessThan(2000);
  }, 5000);
});
