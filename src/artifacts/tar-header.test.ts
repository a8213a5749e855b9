import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { padding, TAR_END, tarHeader, type TarMemberHeader } from './tar-header.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-tar-header-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T = new Date('2024-05-06T07:08:10Z');

function tarOf(members: (TarMemberHeader & { content?: string })[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const body = Buffer.from(m.content ?? '');
    parts.push(tarHeader({ ...m, size: m.type === 'file' ? body.length : 0 }));
    if (m.type === 'file') parts.push(body, Buffer.alloc(padding(body.length)));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

interface Member {
  name: string;
  type: string;
  mode: number;
  mtime: number;
  size: number;
  linkname: string;
  uid: number;
  data: string;
}

/** Python's tarfile (an independent reader) lists the tar, with errors on any bad header. */
function pyTar(tar: Buffer): Member[] {
  const script = `
import io, json, sys, tarfile
t = tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()), errorlevel=2)
out = []
for m in t.getmembers():
    kind = 'dir' if m.isdir() else 'symlink' if m.issym() else 'file' if m.isfile() else 'other'
    data = t.extractfile(m).read().decode() if m.isfile() else ''
    out.append(dict(name=m.name, type=kind, mode=m.mode, mtime=m.mtime, size=m.size, linkname=m.linkname, uid=m.uid, data=data))
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: tar, encoding: 'utf8' })) as Member[];
}

const seg = (c: string, n: number): string => c.repeat(n);
const names = {
  short: 'a/b.txt',
  exactly100: `${seg('d', 49)}/${seg('f', 50)}`,
  prefixSplit: `${seg('p', 120)}/${seg('n', 90)}.txt`,
  paxPath: `${seg('q', 30)}/${seg('x', 140)}.txt`,
  unicode: `${seg('é', 40)}/${seg('ü', 40)}.txt`, // 87 characters, 167 bytes
  deepDir: `${seg('deep/', 60)}end`,
};

describe('tarHeader', () => {
  const members: (TarMemberHeader & { content?: string })[] = [
    { name: names.short, type: 'file', mode: 0o644, mtime: T, size: 0, content: 'hello' },
    { name: names.exactly100, type: 'file', mode: 0o600, mtime: T, size: 0, content: 'x'.repeat(512) },
    { name: names.prefixSplit, type: 'file', mode: 0o755, mtime: T, size: 0, content: 'split' },
    { name: names.paxPath, type: 'file', mode: 0o4755, mtime: T, size: 0, content: 'pax' },
    { name: names.unicode, type: 'file', mode: 0o640, mtime: T, size: 0, content: 'ü' },
    { name: names.deepDir, type: 'directory', mode: 0o750, mtime: T, size: 0 },
    { name: 'link', type: 'symlink', mode: 0o777, mtime: T, size: 0, linkname: names.short },
    { name: 'longlink', type: 'symlink', mode: 0o777, mtime: T, size: 0, linkname: names.paxPath },
    { name: 'old', type: 'file', mode: 0o644, mtime: new Date(0), size: 0, content: '' },
  ];

  it('writes ustar and pax headers python tarfile reads back exactly (names, modes, mtimes, links, sizes)', () => {
    const got = pyTar(tarOf(members));
    expect(got.map((m) => [m.name, m.type, m.mode.toString(8), m.mtime, m.uid, m.linkname, m.data])).toEqual([
      [names.short, 'file', '644', T.getTime() / 1000, 0, '', 'hello'],
      [names.exactly100, 'file', '600', T.getTime() / 1000, 0, '', 'x'.repeat(512)],
      [names.prefixSplit, 'file', '755', T.getTime() / 1000, 0, '', 'split'],
      [names.paxPath, 'file', '4755', T.getTime() / 1000, 0, '', 'pax'],
      [names.unicode, 'file', '640', T.getTime() / 1000, 0, '', 'ü'],
      [names.deepDir, 'dir', '750', T.getTime() / 1000, 0, '', ''],
      ['link', 'symlink', '777', T.getTime() / 1000, 0, names.short, ''],
      ['longlink', 'symlink', '777', T.getTime() / 1000, 0, names.paxPath, ''],
      ['old', 'file', '644', 0, 0, '', ''],
    ]);
  });

  it('GNU tar extracts the same tar: long names, links and modes land where they should', async () => {
    const into = join(dir, 'x');
    execFileSync('mkdir', ['-p', into]);
    execFileSync('tar', ['-x', '-C', into], { input: tarOf(members) });
    expect(await readFile(join(into, names.paxPath), 'utf8')).toBe('pax');
    expect(await readFile(join(into, names.prefixSplit), 'utf8')).toBe('split');
    expect(await readFile(join(into, names.unicode), 'utf8')).toBe('ü');
    expect(await readlink(join(into, 'longlink'))).toBe(names.paxPath);
    expect((await stat(join(into, names.deepDir))).isDirectory()).toBe(true);
    expect((await stat(join(into, names.exactly100))).mode & 0o777).toBe(0o600);
    expect(execFileSync('tar', ['-t'], { input: tarOf(members), encoding: 'utf8' }).split('\n')).toContain(`${names.deepDir}/`);
  });

  it('uses one 512-byte block for a short name and a pax header only when a field does not fit', () => {
    expect(tarHeader({ name: names.short, type: 'file', mode: 0o644, mtime: T, size: 5 }).length).toBe(512);
    expect(tarHeader({ name: names.prefixSplit, type: 'file', mode: 0o644, mtime: T, size: 5 }).length).toBe(512);
    const pax = tarHeader({ name: names.paxPath, type: 'file', mode: 0o644, mtime: T, size: 5 });
    expect(pax.length).toBe(3 * 512);
    expect(pax.subarray(512, 1024).toString('utf8')).toContain(` path=${names.paxPath}\n`);
  });

  it('puts a size of 8 GiB or more in a pax size record', () => {
    const size = 9 * 1024 ** 3;
    const h = tarHeader({ name: 'huge.bin', type: 'file', mode: 0o644, mtime: T, size });
    const record = `size=${size}\n`;
    const line = `${record.length + 3} ${record}`;
    expect(h.length).toBe(3 * 512);
    expect(h.subarray(512, 512 + line.length).toString()).toBe(line);
    expect(h.subarray(1024 + 124, 1024 + 135).toString()).toBe('00000000000');
  });
});
