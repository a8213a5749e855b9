import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-error.js';
import { gzipHeaderText, pathEscape } from './gzip-comment.js';
import { writeGzipMembers } from './write-gzip-members.js';
import { fileEntries, patternBody, T0 } from '../../test/support/archive-entries.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-gzip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(30_000);

/** Python walks the members itself (RFC 1952): header fields, inflated body, CRC and ISIZE checked. */
interface PyMember {
  name: string;
  comment: string;
  mtime: number;
  os: number;
  data: string;
  crcOk: boolean;
}

function pyMembers(file: string): PyMember[] {
  const script = `
import json, struct, sys, zlib
buf = open(sys.argv[1], 'rb').read()
out = []
while buf:
    assert buf[:3] == b'\\x1f\\x8b\\x08', buf[:3]
    flg = buf[3]; mtime = struct.unpack('<I', buf[4:8])[0]; os_ = buf[9]
    i = 10
    name = comment = None
    if flg & 8:
        j = buf.index(b'\\0', i); name = buf[i:j].decode('latin-1'); i = j + 1
    if flg & 16:
        j = buf.index(b'\\0', i); comment = buf[i:j].decode('latin-1'); i = j + 1
    d = zlib.decompressobj(-15)
    data = d.decompress(buf[i:])
    rest = d.unused_data
    crc, isize = struct.unpack('<II', rest[:8])
    out.append(dict(name=name, comment=comment, mtime=mtime, os=os_, data=data.decode('utf-8', 'replace') if len(data) < 200 else str(len(data)),
                    crcOk=(crc == zlib.crc32(data) and isize == len(data) % 2**32)))
    buf = rest[8:]
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as PyMember[];
}

describe('gzipHeaderText', () => {
  it('keeps an ASCII path as it is', () => {
    expect(gzipHeaderText('reports/junit.xml')).toBe('reports/junit.xml');
    expect(gzipHeaderText('a b/c;d?.xml')).toBe('a b/c;d?.xml');
  });

  it("escapes a path with non-ASCII or % as e: + Go's url.PathEscape", () => {
    expect(gzipHeaderText('rapports/résumé.xml')).toBe('e:rapports%2Fr%C3%A9sum%C3%A9.xml');
    expect(gzipHeaderText('100%.xml')).toBe('e:100%25.xml');
    // PathEscape keeps unreserved and $&+:=@, escapes / ; , ? space and the rest
    expect(pathEscape("a-_.~$&+:=@ /;,?!'()*#")).toBe("a-_.~$&+:=@%20%2F%3B%2C%3F%21%27%28%29%2A%23");
  });
});

describe('writeGzipMembers', () => {
  it('writes one member per file, concatenated: gunzip -c gives the files back to back; name, comment, mtime and CRC are right', async () => {
    const file = join(dir, 'junit.xml.gz');
    const stats = await writeGzipMembers(
      fileEntries([
        { path: 'reports/a.xml', content: '<a/>\n' },
        { path: 'reports/empty.xml', content: '' },
        { path: 'reports/é.xml', content: '<é/>\n' },
        { path: 'big.xml', body: () => patternBody(200_000, 3), size: 200_000 },
      ]),
      file,
      signal(),
    );
    expect(stats.entries).toBe(4);
    expect(stats.bytes).toBe(statSync(file).size);
    const all = execFileSync('gunzip', ['-c', file]);
    expect(all.length).toBe(5 + 0 + 6 + 200_000);
    expect(all.subarray(0, 11).toString('utf8')).toBe('<a/>\n<é/>\n');

    const members = pyMembers(file);
    expect(members.map((m) => [m.name, m.comment])).toEqual([
      ['a.xml', 'reports/a.xml'],
      ['empty.xml', 'reports/empty.xml'],
      // gitlab-runner's sanitizePath on the name as well as the comment (gzip_create.go).
      ['e:%C3%A9.xml', 'e:reports%2F%C3%A9.xml'],
      ['big.xml', 'big.xml'],
    ]);
    expect(members.every((m) => m.crcOk)).toBe(true);
    expect(members.every((m) => m.mtime === T0.getTime() / 1000 && m.os === 255)).toBe(true);
    expect(members[2]!.data).toBe('<é/>\n');
  });

  it('refuses a link (not a regular file), naming it, and leaves no file', async () => {
    const file = join(dir, 'link.gz');
    const err = await writeGzipMembers(
      fileEntries([
        { path: 'a.xml', content: '<a/>' },
        { path: 'latest.xml', type: 'symlink', linkTarget: 'a.xml' },
      ]),
      file,
      signal(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('the "latest.xml" is not a regular file');
    expect(existsSync(file)).toBe(false);
  });

  it('writes a file whose name is outside Latin-1 with its name and path escaped, as gitlab-runner does (it failed the job)', async () => {
    const file = join(dir, 'cjk.gz');
    await writeGzipMembers(fileEntries([{ path: 'r/報告.xml', content: 'x' }, { path: '100%.xml', content: 'y' }]), file, signal());
    expect(pyMembers(file).map((m) => [m.name, m.comment, m.data])).toEqual([
      ['e:%E5%A0%B1%E5%91%8A.xml', 'e:r%2F%E5%A0%B1%E5%91%8A.xml', 'x'],
      ['e:100%25.xml', 'e:100%25.xml', 'y'],
    ]);
  });

  it('refuses a folder the paths selected (gitlab-runner: the "rep" is not a regular file), naming it, and leaves no file', async () => {
    const file = join(dir, 'folder.gz');
    const err = await writeGzipMembers(
      fileEntries([
        { path: 'rep', type: 'directory' },
        { path: 'rep/a.xml', content: '<a/>' },
      ]),
      file,
      signal(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toContain('the "rep" is not a regular file');
    expect((err as Error).message).toContain('"rep/*.xml"');
    expect(existsSync(file)).toBe(false);
  });
});
