import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runnerConfigText } from '../../test/support/runner-config.js';
import { loadConfig } from './load-config.js';
import { updateRunnerInConfig } from './update-runner-in-config.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-update-runner-'));
  path = join(dir, 'config.toml');
  const second = runnerConfigText({ url: 'http://127.0.0.1:2', token: 'glrt-second-runner-token' }).replace(/^[\s\S]*?\[\[runners\]\]/, '[[runners]]');
  await writeFile(path, runnerConfigText({ url: 'http://127.0.0.1:1', token: 'glrt-first-runner-token0', runner: ['limit = 3'] }) + second);
  await chmod(path, 0o644);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('updateRunnerInConfig', () => {
  it('changes one runner, keeps the others, and saves by rename with mode 0600', async () => {
    const inode = (await stat(path)).ino;
    const res = await updateRunnerInConfig(
      path,
      'glrt-first-runner-token0',
      (r) => {
        Object.assign(r, { token: 'glrt-rotated-token-00000', tokenObtainedAt: '2026-03-01T12:00:00Z', tokenExpiresAt: '2026-03-08T12:00:00Z' });
        return true;
      },
      { env: {} },
    );
    expect(res).toBe('saved');
    const text = await readFile(path, 'utf8');
    expect(text).toContain('token = "glrt-rotated-token-00000"');
    expect(text).toContain('token_obtained_at = 2026-03-01T12:00:00Z');
    expect(text).toContain('token_expires_at = 2026-03-08T12:00:00Z');
    expect(text).not.toContain('glrt-first-runner-token0');
    const { config } = await loadConfig(path, { env: {} });
    expect(config.runners.map((r) => [r.token, r.limit])).toEqual([
      ['glrt-rotated-token-00000', 3],
      ['glrt-second-runner-token', 0],
    ]);
    const st = await stat(path);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.ino).not.toBe(inode);
    expect(await readdir(dir)).toEqual(['config.toml']);
  });

  it('writes nothing when the change says so or the runner is not in the file', async () => {
    const before = await readFile(path, 'utf8');
    expect(await updateRunnerInConfig(path, 'glrt-first-runner-token0', () => false, { env: {} })).toBe('unchanged');
    expect(await updateRunnerInConfig(path, 'glrt-unknown', () => true, { env: {} })).toBe('not-found');
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});
