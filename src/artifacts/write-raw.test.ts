import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-error.js';
import { writeRaw } from './write-raw.js';
import { fileEntries, patternBody } from '../../test/support/archive-entries.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-raw-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(30_000);

async function collect(size: number, seed: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of patternBody(size, seed)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('writeRaw', () => {
  it('copies exactly one file as it is', async () => {
    const file = join(dir, 'gl-sast-report.json');
    const stats = await writeRaw(fileEntries([{ path: 'out/gl-sast-report.json', body: () => patternBody(150_000, 9), size: 150_000 }]), file, signal());
    expect(stats).toEqual({ entries: 1, bytes: 150_000 });
    expect((await readFile(file)).equals(await collect(150_000, 9))).toBe(true);
  });

  it('copies a 0-byte file', async () => {
    const file = join(dir, 'empty.json');
    expect(await writeRaw(fileEntries([{ path: 'empty.json', content: '' }]), file, signal())).toEqual({ entries: 1, bytes: 0 });
    expect((await readFile(file)).length).toBe(0);
  });

  it("refuses more than one file with gitlab-runner's words and leaves no file", async () => {
    const file = join(dir, 'two.json');
    const err = await writeRaw(
      fileEntries([
        { path: 'a.json', content: '{}' },
        { path: 'b.json', content: '{}' },
      ]),
      file,
      signal(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toBe('only one file can be sent as raw');
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a folder (it is not one regular file)', async () => {
    const file = join(dir, 'dir.json');
    const err = await writeRaw(fileEntries([{ path: 'reports', type: 'directory' }]), file, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('"reports" is not a regular file');
    expect(existsSync(file)).toBe(false);
  });
});
