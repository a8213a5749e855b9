import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LeadingLinkCheck } from './leading-links.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'berth-guard-'));
  mkdirSync(join(base, 'repo/src/deep'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside/f'), 'secret');
  symlinkSync(join(base, 'outside'), join(base, 'repo/lib'));
  symlinkSync(join(base, 'outside'), join(base, 'repo/src/deep/inner'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

it('finds the first parent that is a link, at any depth; top-level files and real directories pass', async () => {
  const check = new LeadingLinkCheck(join(base, 'repo'));
  expect(await check.firstBadParent('lib/f')).toEqual({ parent: 'lib', kind: 'link' });
  expect(await check.firstBadParent('src/deep/inner/f')).toEqual({ parent: 'src/deep/inner', kind: 'link' });
  expect(await check.firstBadParent('gone/f')).toEqual({ parent: 'gone', kind: 'other' });
  expect(await check.firstBadParent('src/deep/x.c')).toBeNull();
  expect(await check.firstBadParent('lib')).toBeNull();
  expect(await check.firstBadParent('README')).toBeNull();
});
