/**
 * Regression test for issue 8, finding 2 (sources): a tracked file whose folder was replaced by
 * a symbolic link (uncommitted) must not be copied from where the link points.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.js';
import { listSourceFiles } from './source-files.js';

const base = mkdtempSync(join(tmpdir(), 'berth-sources-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function repoWithLinkedFolder(): string {
  const dir = join(base, 'repo');
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'lib/config.txt'), 'committed\n');
  writeFileSync(join(dir, 'README'), 'r\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=a@b.invalid', '-c', 'user.name=A', 'commit', '-qm', 'x');
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside/config.txt'), 'HOST SECRET\n');
  rmSync(join(dir, 'lib'), { recursive: true });
  symlinkSync(join(base, 'outside'), join(dir, 'lib'));
  return dir;
}

it('refuses a tracked file whose folder is now a link, naming the file, the link and the fix', async () => {
  const dir = repoWithLinkedFolder();
  const err = await listSourceFiles(dir, true).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toContain('Refusing to copy lib/config.txt into the jobs: its folder lib is a symbolic link');
  expect((err as Error).message).toContain('git checkout -- lib');
});
