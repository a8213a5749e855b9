import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSystemId, loadOrCreateSystemId, systemIdPath } from './system-id.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-sysid-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('system id', () => {
  it('derives s_<12 hex> from the machine id without revealing it, like gitlab-runner', async () => {
    const machineIdFile = join(dir, 'machine-id');
    await writeFile(machineIdFile, '0123456789abcdef0123456789abcdef\n');
    const id = await generateSystemId([join(dir, 'missing'), machineIdFile]);
    expect(id).toMatch(/^s_[0-9a-f]{12}$/);
    expect(id).toBe(`s_${createHmac('sha256', '0123456789abcdef0123456789abcdef').update('gitlab-runner').digest('hex').slice(0, 12)}`);
    expect(id).not.toContain('0123456789ab');
  });

  it('falls back to r_<12 random> without a machine id', async () => {
    const a = await generateSystemId([join(dir, 'missing')]);
    const b = await generateSystemId([]);
    expect(a).toMatch(/^r_[0-9a-zA-Z]{12}$/);
    expect(b).toMatch(/^r_[0-9a-zA-Z]{12}$/);
    expect(a).not.toBe(b);
  });

  it('is created once next to config.toml (mode 0600, new directory 0700) and reused', async () => {
    const configPath = join(dir, 'etc', 'config.toml');
    const first = await loadOrCreateSystemId(configPath, { machineIdFiles: [] });
    expect(systemIdPath(configPath)).toBe(join(dir, 'etc', '.runner_system_id'));
    expect(await readFile(systemIdPath(configPath), 'utf8')).toBe(first);
    expect((await stat(systemIdPath(configPath))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'etc'))).mode & 0o777).toBe(0o700);
    expect(await loadOrCreateSystemId(configPath, { machineIdFiles: [] })).toBe(first);
  });

  it('reuses the id gitlab-runner wrote (with a newline) and replaces an invalid one', async () => {
    const configPath = join(dir, 'config.toml');
    await writeFile(systemIdPath(configPath), 's_0123456789ab\n');
    expect(await loadOrCreateSystemId(configPath)).toBe('s_0123456789ab');
    await writeFile(systemIdPath(configPath), 'garbage');
    const id = await loadOrCreateSystemId(configPath, { machineIdFiles: [] });
    expect(id).toMatch(/^r_[0-9a-zA-Z]{12}$/);
    expect(await readFile(systemIdPath(configPath), 'utf8')).toBe(id);
  });

  it('says how to fix it when the id cannot be saved', async () => {
    await writeFile(join(dir, 'file'), '');
    await expect(loadOrCreateSystemId(join(dir, 'file', 'config.toml'), { machineIdFiles: [] })).rejects.toThrow(
      /^Failed to save the runner system id to .*\.runner_system_id: .*create the file with: echo r_/,
    );
  });
});
