import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BerthError, InputError } from '../shared/errors.js';
import { newConfig } from './berth-config.js';
import { encodeConfig } from './encode-config.js';
import { loadConfig } from './load-config.js';
import { parseConfig } from './parse-config.js';
import { saveConfig } from './save-config.js';
import { FULL_CONFIG, GITLAB_RUNNER_WRITTEN } from '../../test/support/config/gitlab-runner-config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(text: string, mode = 0o600): Promise<string> {
  const path = join(dir, 'config.toml');
  await writeFile(path, text);
  await chmod(path, mode);
  return path;
}

describe('loadConfig', () => {
  it('warns when other users can read the file', async () => {
    const path = await writeConfig(GITLAB_RUNNER_WRITTEN, 0o644);
    const { warnings } = await loadConfig(path, { env: {} });
    expect(warnings.map((w) => w.message)).toEqual([`${path} is readable by other users (mode 0644): run chmod 600 ${path}`]);
  });

  it('does not warn about a 0600 file', async () => {
    const path = await writeConfig(GITLAB_RUNNER_WRITTEN, 0o600);
    const loaded = await loadConfig(path, { env: {} });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.mtimeMs).toBe((await stat(path)).mtimeMs);
  });

  it('names the missing file, or gives a new config when that is allowed', async () => {
    const path = join(dir, 'nope.toml');
    const err = await loadConfig(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`Config file ${path} does not exist: register a runner with "berth register", or pass --config`);
    const loaded = await loadConfig(path, { allowMissing: true });
    expect(loaded).toEqual({ config: newConfig(), warnings: [], mtimeMs: 0 });
  });

  it('reports the full path with the line of a bad value', async () => {
    const path = await writeConfig('concurrent = 0\n');
    await expect(loadConfig(path)).rejects.toThrow(`${path}:1: concurrent: 0 is not allowed: use 1 or more`);
  });
});

describe('saveConfig', () => {
  it('writes mode 0600 and creates a missing directory 0700', async () => {
    const path = join(dir, 'etc', 'berth', 'config.toml');
    await saveConfig(path, newConfig());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'etc', 'berth'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'etc'))).mode & 0o777).toBe(0o700);
  });

  it('makes an existing 0644 file 0600', async () => {
    const path = await writeConfig(GITLAB_RUNNER_WRITTEN, 0o644);
    await saveConfig(path, (await loadConfig(path, { env: {} })).config, { env: {} });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('replaces the file in one rename and leaves no temporary file', async () => {
    const path = await writeConfig(GITLAB_RUNNER_WRITTEN);
    const { config } = await loadConfig(path, { env: {} });
    config.concurrent = 3;
    await saveConfig(path, config, { env: {} });
    expect(await readdir(dir)).toEqual(['config.toml']);
    expect(await readFile(path, 'utf8')).toMatch(/^concurrent = 3\n/);
  });

  it('removes its temporary file and leaves the target alone when the final rename fails', async () => {
    // The target is a non-empty directory: the rename fails (for root too) after the temp file was written.
    const path = join(dir, 'config.toml');
    await mkdir(path);
    await writeFile(join(path, 'keep'), 'x');
    const err = await saveConfig(path, newConfig()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as Error).message).toMatch(`Failed to save config file ${path}: `);
    expect(await readdir(dir)).toEqual(['config.toml']);
    expect(await readFile(join(path, 'keep'), 'utf8')).toBe('x');
  });

  it('fails with the path when the directory cannot be created', async () => {
    await writeFile(join(dir, 'file'), '');
    const path = join(dir, 'file', 'config.toml');
    await expect(saveConfig(path, newConfig())).rejects.toThrow(`Failed to save config file ${path}: `);
  });

  it('writes a new config the way gitlab-runner does', async () => {
    const path = join(dir, 'config.toml');
    await saveConfig(path, newConfig());
    expect(await readFile(path, 'utf8')).toBe('concurrent = 1\ncheck_interval = 0\nshutdown_timeout = 0\n\n[session_server]\n  session_timeout = 1800\n');
  });

  it('rewrites a gitlab-runner config with the same keys (comments, empty tables and zero cache keys are lost)', async () => {
    const path = await writeConfig(`# managed by hand\n${GITLAB_RUNNER_WRITTEN}`);
    await saveConfig(path, (await loadConfig(path, { env: {} })).config, { env: {} });
    // gitlab-runner 17+ writes MaxUploadedArchiveSize with omitempty too (cache/cacheconfig/cacheconfig.go).
    const emptyCache = '  [runners.cache]\n    MaxUploadedArchiveSize = 0\n    [runners.cache.s3]\n    [runners.cache.gcs]\n    [runners.cache.azure]\n';
    expect(await readFile(path, 'utf8')).toBe(GITLAB_RUNNER_WRITTEN.replace('  [runners.custom_build_dir]\n', '').replace(emptyCache, ''));
  });

  it('writes $VAR back instead of the expanded secret, unless the value changed', async () => {
    const env = { GL_TOKEN: 'glrt-fromenv', GL_URL: 'https://gitlab.test' };
    const path = await writeConfig('[[runners]]\n  url = "$GL_URL"\n  token = "${GL_TOKEN}"\n  executor = "docker"\n');
    const { config } = await loadConfig(path, { env });
    await saveConfig(path, config, { env });
    let text = await readFile(path, 'utf8');
    expect(text).toContain('url = "$GL_URL"');
    expect(text).toContain('token = "${GL_TOKEN}"');
    expect(text).not.toContain('glrt-fromenv');
    config.runners[0]!.token = 'glrt-rotated';
    await saveConfig(path, config, { env });
    text = await readFile(path, 'utf8');
    expect(text).toContain('token = "glrt-rotated"');
    expect(text).toContain('url = "$GL_URL"');
  });
});

describe('round trip: load(save(x)) == x', () => {
  it.each([
    ['gitlab-runner written', GITLAB_RUNNER_WRITTEN],
    ['every kind of value', FULL_CONFIG],
  ])('%s', async (_name, text) => {
    const path = await writeConfig(text);
    const first = await loadConfig(path, { env: {} });
    await saveConfig(path, first.config, { env: {} });
    const second = await loadConfig(path, { env: {} });
    expect(second.config).toEqual(first.config);
    expect(second.warnings).toEqual([]);
  });

  it('keeps strings with quotes, newlines, unicode and odd map keys', () => {
    const config = parseConfig(FULL_CONFIG, { file: 'x', env: {} }).config;
    const runner = config.runners[0]!;
    runner.postBuildScript = 'echo "a\\b"\n\tprintf \'%s\' ünï 🚀\u0001';
    runner.docker.sysctls = { 'a.b"c': 'x=y', '': 'empty key' };
    runner.labels = { 'with space': 'v' };
    const again = parseConfig(encodeConfig(config, {}), { file: 'x', env: {} }).config;
    expect(again).toEqual(config);
  });
});
