import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../engine/engine-client.js';
import { mayWriteSourcesDirectly, volumeDirOnHost } from './builds-volume.js';
import { writeSourcesToDir } from './sources-to-dir.js';

const never = new AbortController().signal;
const made: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-to-dir-'));
  made.push(d);
  return d;
}
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('writeSourcesToDir', () => {
  it('writes what packSources packs: folders and files open to everyone, execute bits kept, links as links, mtimes, file variables under .tmp', async () => {
    const src = tempDir();
    const vol = tempDir();
    mkdirSync(join(src, 'sub'));
    writeFileSync(join(src, 'a.txt'), 'A');
    writeFileSync(join(src, 'sub', 'run.sh'), 'R');
    chmodSync(join(src, 'sub', 'run.sh'), 0o700);
    utimesSync(join(src, 'a.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    symlinkSync('/etc/passwd', join(src, 'link'));
    const large = Buffer.alloc(600 * 1024, 'x');
    writeFileSync(join(src, 'large.bin'), large);
    const count = await writeSourcesToDir(
      { dir: vol, mountedAt: '/builds', owner: null },
      { projectDir: '/builds/g/p', source: { root: src, files: ['a.txt', 'sub/run.sh', 'link', 'large.bin', 'missing.txt', '../escape'] }, fileVariables: [{ key: 'CERT', value: 'pem\n' }] },
      never,
    );
    expect(count).toBe(4);
    const again = tempDir();
    const twice = await writeSourcesToDir({ dir: again, mountedAt: '/builds', owner: null }, { projectDir: '/builds/g/p', source: { root: src, files: ['a.txt', 'a.txt'] }, fileVariables: [] }, never);
    expect(twice).toBe(1); // a name listed twice is written once
    expect(readFileSync(join(again, 'g/p/a.txt'), 'utf8')).toBe('A');
    const mode = (p: string): number => lstatSync(join(vol, p)).mode & 0o777;
    expect(mode('.')).toBe(0o777); // the volume's root is CI_BUILDS_DIR, opened as the tar opened /builds
    expect(mode('g')).toBe(0o777);
    expect(mode('g/p/sub')).toBe(0o777);
    expect(readFileSync(join(vol, 'g/p/a.txt'), 'utf8')).toBe('A');
    expect(mode('g/p/a.txt')).toBe(0o666);
    expect(statSync(join(vol, 'g/p/a.txt')).mtime.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(mode('g/p/sub/run.sh')).toBe(0o777);
    expect(lstatSync(join(vol, 'g/p/link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(vol, 'g/p/link'))).toBe('/etc/passwd');
    expect(readFileSync(join(vol, 'g/p/large.bin')).equals(large)).toBe(true);
    expect(readFileSync(join(vol, 'g/p.tmp/CERT'), 'utf8')).toBe('pem\n');
    expect(mode('g/p.tmp/CERT')).toBe(0o666);
  });

  it('never writes through an existing link: a link where a file goes fails the copy, and nothing lands outside', async () => {
    const src = tempDir();
    const vol = tempDir();
    const outside = tempDir();
    writeFileSync(join(src, 'f'), 'NEW');
    writeFileSync(join(outside, 'victim'), 'OLD');
    mkdirSync(join(vol, 'g', 'p'), { recursive: true });
    symlinkSync(join(outside, 'victim'), join(vol, 'g', 'p', 'f'));
    await expect(
      writeSourcesToDir({ dir: vol, mountedAt: '/builds', owner: null }, { projectDir: '/builds/g/p', source: { root: src, files: ['f'] }, fileVariables: [] }, never),
    ).rejects.toThrow(/EEXIST/);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('OLD');

    // A folder of the project that is a link: refused, never followed.
    const vol2 = tempDir();
    mkdirSync(join(vol2, 'g'));
    symlinkSync(outside, join(vol2, 'g', 'p'));
    await expect(
      writeSourcesToDir({ dir: vol2, mountedAt: '/builds', owner: null }, { projectDir: '/builds/g/p', source: { root: src, files: ['f'] }, fileVariables: [] }, never),
    ).rejects.toThrow(/exists and is not a folder/);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('OLD');
  });

  it('never reads a source file through a folder that is a link', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(root, 'outside', 'f'), 'HOST SECRET');
    mkdirSync(join(root, 'repo'));
    symlinkSync(join(root, 'outside'), join(root, 'repo', 'lib'));
    const vol = tempDir();
    await expect(
      writeSourcesToDir({ dir: vol, mountedAt: '/builds', owner: null }, { projectDir: '/builds/g/p', source: { root: join(root, 'repo'), files: ['lib/f'] }, fileVariables: [] }, never),
    ).rejects.toThrow(/Refusing to copy lib\/f: its folder lib .* is a symbolic link/);
  });

  it('stops when the signal is aborted', async () => {
    const src = tempDir();
    writeFileSync(join(src, 'f'), 'x');
    const ac = new AbortController();
    ac.abort(new Error('canceled'));
    await expect(
      writeSourcesToDir({ dir: tempDir(), mountedAt: '/builds', owner: null }, { projectDir: '/builds/g/p', source: { root: src, files: ['f'] }, fileVariables: [] }, ac.signal),
    ).rejects.toThrow('canceled');
  });
});

describe('mayWriteSourcesDirectly', () => {
  const base = { localEngine: true, hasServices: false, buildsDir: '/builds', projectDir: '/builds/g/p', binds: ['berth-cache-1:/cache', '/srv/data:/data:ro'] };

  it('allows a local engine, no services, the project under the builds folder and no volume over it', () => {
    expect(mayWriteSourcesDirectly(base)).toBe(true);
  });

  it('refuses a remote engine, services, a project outside the builds folder, or a configured volume at or over the build folders', () => {
    expect(mayWriteSourcesDirectly({ ...base, localEngine: false })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, hasServices: true })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, projectDir: '/src/g/p' })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, projectDir: '/builds' })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, binds: ['/srv/builds:/builds'] })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, binds: ['/srv/g:/builds/g:rw'] })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, binds: ['/builds/g/p/node_modules'] })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, binds: ['/x:/builds/g/p.tmp'] })).toBe(false);
    expect(mayWriteSourcesDirectly({ ...base, binds: ['/x:/builds/other'] })).toBe(true);
  });
});

describe('volumeDirOnHost', () => {
  /** Only the volume's folder is asked of the engine; the checks are on the real file system. */
  const engineWith = (mountpoint: string | null): EngineClient => ({ volumeMountpoint: async () => mountpoint }) as unknown as EngineClient;

  it('gives the folder when it is on this host, empty and writable; refuses an occupied one for this job only, a missing one for good', async () => {
    const vol = tempDir();
    expect(await volumeDirOnHost(engineWith(vol), 'v', '/builds', never)).toEqual({ target: { dir: vol, mountedAt: '/builds', owner: null } });
    writeFileSync(join(vol, 'from-the-image'), 'x');
    expect(await volumeDirOnHost(engineWith(vol), 'v', '/builds', never)).toEqual({ refused: 'occupied' });
    expect(await volumeDirOnHost(engineWith(join(vol, 'not-here')), 'v', '/builds', never)).toEqual({ refused: 'elsewhere' });
    expect(await volumeDirOnHost(engineWith(null), 'v', '/builds', never)).toEqual({ refused: 'elsewhere' });
    expect(await volumeDirOnHost(engineWith('relative/path'), 'v', '/builds', never)).toEqual({ refused: 'elsewhere' });
  });
});
