import { mkdtempSync, writeFileSync, chmodSync, symlinkSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extract } from 'tar-stream';
import { packSources } from './sources-archive.js';

async function entries(stream: NodeJS.ReadableStream) {
  const out: { name: string; type: string; mode: number; uid: number; body: string; linkname?: string | null }[] = [];
  const ex = extract();
  ex.on('entry', (header, body, next) => {
    let text = '';
    body.on('data', (d: unknown) => (text += String(d)));
    body.on('end', () => {
      out.push({ name: header.name, type: header.type ?? '', mode: header.mode ?? 0, uid: header.uid ?? -1, body: text, linkname: header.linkname });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    stream.pipe(ex);
  });
  return out;
}

describe('packSources', () => {
  it('packs files under the project dir, file variables under .tmp, with open modes and root owner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-pack-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.txt'), 'A');
    writeFileSync(join(dir, 'sub', 'run.sh'), 'R');
    chmodSync(join(dir, 'sub', 'run.sh'), 0o700);
    symlinkSync('a.txt', join(dir, 'link'));
    const archive = packSources({
      projectDir: '/builds/g/p',
      source: { root: dir, files: ['a.txt', 'sub/run.sh', 'link', 'missing.txt', '../escape'] },
      fileVariables: [{ key: 'CERT', value: 'pem\n' }],
    });
    const list = await entries(archive.stream);
    expect(await archive.done).toBe(3);
    const byName = Object.fromEntries(list.map((e) => [e.name, e]));
    expect(Object.keys(byName)).toEqual([
      'builds/', 'builds/g/', 'builds/g/p/', 'builds/g/p.tmp/', 'builds/g/p.tmp/CERT', 'builds/g/p/a.txt', 'builds/g/p/sub/', 'builds/g/p/sub/run.sh', 'builds/g/p/link',
    ]);
    expect(byName['builds/g/p/a.txt']).toMatchObject({ body: 'A', mode: 0o666, uid: 0 });
    expect(byName['builds/g/p/sub/run.sh']).toMatchObject({ body: 'R', mode: 0o777 });
    expect(byName['builds/g/p/link']).toMatchObject({ type: 'symlink', linkname: 'a.txt' });
    expect(byName['builds/g/p.tmp/CERT']).toMatchObject({ body: 'pem\n' });
    expect(byName['builds/g/p/sub/']).toMatchObject({ type: 'directory', mode: 0o777 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('packs many files read ahead in list order, a large one streamed whole, a symlink as a link, with their contents and modes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-pack-'));
    mkdirSync(join(dir, 'd'));
    const files: string[] = [];
    for (let i = 0; i < 40; i++) {
      const rel = i % 2 ? `d/f${String(i).padStart(2, '0')}` : `f${String(i).padStart(2, '0')}`;
      writeFileSync(join(dir, rel), `content ${i}\n`.repeat(i));
      if (i % 5 === 0) chmodSync(join(dir, rel), 0o755);
      files.push(rel);
    }
    const large = Buffer.alloc(600 * 1024, 'x');
    large.write('end', large.length - 3);
    writeFileSync(join(dir, 'large.bin'), large);
    symlinkSync('f00', join(dir, 'zlink'));
    const listed = [...files, 'large.bin', 'gone.txt', 'zlink'];
    const archive = packSources({ projectDir: '/b/p', source: { root: dir, files: listed }, fileVariables: [] });
    const list = await entries(archive.stream);
    expect(await archive.done).toBe(42);
    const packed = list.filter((e) => e.type !== 'directory');
    expect(packed.map((e) => e.name)).toEqual([...files, 'large.bin', 'zlink'].map((f) => `b/p/${f}`));
    files.forEach((f, i) => {
      expect(packed[i]).toMatchObject({ type: 'file', body: `content ${i}\n`.repeat(i), mode: i % 5 === 0 ? 0o777 : 0o666 });
    });
    expect(packed[40]!.body.length).toBe(large.length);
    expect(packed[40]!.body.endsWith('end')).toBe(true);
    expect(packed[41]).toMatchObject({ type: 'symlink', linkname: 'f00' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('never reads a listed file through a folder that is a link, and skips a file replaced by a FIFO', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-pack-'));
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'f'), 'HOST SECRET');
    mkdirSync(join(dir, 'repo'));
    symlinkSync(join(dir, 'outside'), join(dir, 'repo', 'lib'));
    const archive = packSources({ projectDir: '/builds/g/p', source: { root: join(dir, 'repo'), files: ['lib/f'] }, fileVariables: [] });
    const bytes: Buffer[] = [];
    archive.stream.on('data', (d: Buffer) => bytes.push(d)).on('error', () => undefined);
    await expect(archive.done).rejects.toThrow(/Refusing to copy lib\/f: its folder lib .* is a symbolic link/);
    expect(Buffer.concat(bytes).toString('latin1')).not.toContain('HOST SECRET');

    execFileSync('mkfifo', [join(dir, 'repo', 'pipe')]);
    const skipped = packSources({ projectDir: '/builds/g/p', source: { root: join(dir, 'repo'), files: ['pipe'] }, fileVariables: [] });
    await entries(skipped.stream);
    expect(await skipped.done).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 10_000);
});
