import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DotenvReportError, parseDotenvReport } from './dotenv-report.js';
import { GzipStreamError, readGzipMembers } from './gzip-members.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function parseError(blobs: Buffer[], storedSize = 100, limits?: { maxBytes: number; maxVariables: number }): string {
  try {
    parseDotenvReport(blobs, storedSize, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(DotenvReportError);
    return (err as Error).message;
  }
  throw new Error('expected parseDotenvReport to throw');
}

describe('parseDotenvReport (GitLab Ci::ParseDotenvArtifactService)', () => {
  it('reads KEY=VALUE lines, across blobs, in order', () => {
    expect(parseDotenvReport([b('KEY1=VAR1\nKEY2=VAR2\n'), b('KEY3=VAR3')], 100)).toEqual([
      { key: 'KEY1', value: 'VAR1' },
      { key: 'KEY2', value: 'VAR2' },
      { key: 'KEY3', value: 'VAR3' },
    ]);
  });

  it.each([
    ['KEY1 =VAR1', 'KEY1', 'VAR1'],
    ['  KEY1\t=\t VAR1  ', 'KEY1', 'VAR1'],
    ['KEY1=V A R 1', 'KEY1', 'V A R 1'],
    ['KEY1="VAR1"', 'KEY1', '"VAR1"'],
    ["KEY1='VAR1'", 'KEY1', "'VAR1'"],
    ['KEY1="  VAR1  "', 'KEY1', '"  VAR1  "'],
    ['KEY1=', 'KEY1', ''],
    ['KEY1=a=b==c', 'KEY1', 'a=b==c'],
    // GitLab's current spec: the line splits at its first `=` (an older GitLab split at the last)
    ['KEY=VARCONTAINING=EQLS', 'KEY', 'VARCONTAINING=EQLS'],
    ['KEY1=VAR1KEY2=VAR1', 'KEY1', 'VAR1KEY2=VAR1'],
    ['KEY2=${KEY1}_Test', 'KEY2', '${KEY1}_Test'],
    ['KEY1=VAR1         # This is variable', 'KEY1', 'VAR1         # This is variable'],
    ['skateboard=🛹', 'skateboard', '🛹'],
    ['export=x', 'export', 'x'],
    ['K=\u00a0v\u00a0', 'K', '\u00a0v\u00a0'],
  ])('%j gives %s=%j', (line, key, value) => {
    expect(parseDotenvReport([b(line + '\n')], 100)).toEqual([{ key, value }]);
  });

  it('handles CRLF: the \\r before \\n is stripped with the value, an inner \\r stays', () => {
    expect(parseDotenvReport([b('A=1\r\nB=two words\r\n')], 100)).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: 'two words' },
    ]);
    expect(parseDotenvReport([b('A=1\rB=2\n')], 100)).toEqual([{ key: 'A', value: '1\rB=2' }]);
  });

  it('refuses a CRLF blank line like any blank line', () => {
    expect(parseError([b('A=1\r\n\r\nB=2\r\n')])).toBe('Invalid Format');
  });

  it('lets the last duplicate win, at the first position', () => {
    expect(parseDotenvReport([b('A=1\nB=2\n'), b('A=3\n')], 100)).toEqual([
      { key: 'A', value: '3' },
      { key: 'B', value: '2' },
    ]);
  });

  it('accepts empty blobs and a final line without newline', () => {
    expect(parseDotenvReport([b(''), b('A=1')], 100)).toEqual([{ key: 'A', value: '1' }]);
    expect(parseDotenvReport([], 0)).toEqual([]);
  });

  it.each([
    ['a blank line', 'KEY1=VAR1\n\nKEY2=VAR2\n'],
    ['a trailing blank line', 'KEY1=VAR1\n\n'],
    ['JSON', "{ 'KEY1': 'VAR1' }"],
    ['a comment line', '# comment\nA=1\n'],
    ['a whitespace-only line', 'A=1\n   \n'],
  ])('fails with Invalid Format on %s', (_what, text) => {
    expect(parseError([b(text)])).toBe('Invalid Format');
  });

  it.each([
    ['🛹=skateboard', '🛹'],
    ['K E Y 1=VAR1', 'K E Y 1'],
    ['KEY-1=x', 'KEY-1'],
    ['export A=1', 'export A'],
  ])('fails the model validation on %j', (line) => {
    expect(parseError([b(line)])).toBe("Validation failed: Key can contain only letters, digits and '_'.");
  });

  it('fails on a missing key with both messages, as Rails joins them', () => {
    expect(parseError([b('=VAR1')])).toBe("Validation failed: Key can't be blank, Key can contain only letters, digits and '_'.");
  });

  it('limits keys to 255 characters', () => {
    const ok = 'K'.repeat(255);
    expect(parseDotenvReport([b(`${ok}=v`)], 100)).toEqual([{ key: ok, value: 'v' }]);
    expect(parseError([b(`${'K'.repeat(256)}=v`)])).toBe('Validation failed: Key is too long (maximum is 255 characters)');
  });

  it('checks the stored size first: it must be below the limit', () => {
    expect(parseDotenvReport([b('A=1')], 5119)).toEqual([{ key: 'A', value: '1' }]);
    expect(parseError([b('A=1')], 5120)).toBe('Dotenv Artifact Too Big. Maximum Allowable Size: 5120');
    expect(parseError([b('not dotenv')], 10, { maxBytes: 10, maxVariables: 150 })).toBe(
      'Dotenv Artifact Too Big. Maximum Allowable Size: 10',
    );
  });

  it('counts distinct keys against the limit, before validating keys', () => {
    const lines = (n: number): string => Array.from({ length: n }, (_, i) => `KEY${i}=VAR${i}\n`).join('');
    expect(parseDotenvReport([b(lines(150))], 100)).toHaveLength(150);
    expect(parseError([b(lines(151))])).toBe('Dotenv files cannot have more than 150 variables');
    expect(parseDotenvReport([b(lines(20) + lines(20))], 100, { maxBytes: 5120, maxVariables: 20 })).toHaveLength(20);
    expect(parseError([b(lines(21) + 'bad key=1\n')], 100, { maxBytes: 5120, maxVariables: 21 })).toBe(
      'Dotenv files cannot have more than 21 variables',
    );
  });

  it('fails on the first bad line even after valid ones (Invalid Format comes before the count)', () => {
    const many = Array.from({ length: 200 }, (_, i) => `K${i}=v`).join('\n');
    expect(parseError([b(many + '\nnope\n')])).toBe('Invalid Format');
  });

  it('reads UTF-16LE with a BOM (PowerShell) and strips a UTF-8 BOM', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('A=1\r\nNAME=Grüße\r\n', 'utf16le')]);
    expect(parseDotenvReport([utf16], 100)).toEqual([
      { key: 'A', value: '1' },
      { key: 'NAME', value: 'Grüße' },
    ]);
    const utf16be = Buffer.from([0xfe, 0xff, 0x00, 0x41, 0x00, 0x3d, 0x00, 0x32]);
    expect(parseDotenvReport([utf16be], 100)).toEqual([{ key: 'A', value: '2' }]);
    expect(parseDotenvReport([Buffer.from([0xef, 0xbb, 0xbf, ...b('A=1\n')])], 100)).toEqual([{ key: 'A', value: '1' }]);
  });

  it('reads other invalid UTF-8 as Windows-1252', () => {
    expect(parseDotenvReport([Buffer.from([...b('V=caf'), 0xe9])], 100)).toEqual([{ key: 'V', value: 'café' }]);
  });
});

describe('readGzipMembers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('splits a file the gzip tool appended to into its members (with FNAME headers)', async () => {
    writeFileSync(join(dir, 'a.env'), 'A=1\n');
    writeFileSync(join(dir, 'b.env'), 'B=2\r\nC=3\r\n');
    const gz = join(dir, '.env.gz');
    writeFileSync(gz, execFileSync('gzip', ['-c', join(dir, 'a.env')]));
    writeFileSync(gz, Buffer.concat([readFileSync(gz), execFileSync('gzip', ['-9', '-c', join(dir, 'b.env')])]));
    const members = await readGzipMembers(gz);
    expect(members.map((m) => m.toString())).toEqual(['A=1\n', 'B=2\r\nC=3\r\n']);
    expect(parseDotenvReport(members, statSync(gz).size)).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '2' },
      { key: 'C', value: '3' },
    ]);
  });

  it('handles empty members, large members and an empty file', async () => {
    const big = Buffer.alloc(300_000, 'x');
    const members = await readGzipMembers(Buffer.concat([gzipSync(Buffer.alloc(0)), gzipSync(big), gzipSync(b('z'))]));
    expect(members.map((m) => m.length)).toEqual([0, 300_000, 1]);
    expect(members[1]!.equals(big)).toBe(true);
    expect(await readGzipMembers(Buffer.alloc(0))).toEqual([]);
  });

  it('stops a gzip bomb at the limit without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(readGzipMembers(bomb, { maxUncompressedBytes: 1024 * 1024 })).rejects.toThrow(/inflates to more than 1048576 bytes/);
    // the limit is over all members together
    const two = Buffer.concat([gzipSync(Buffer.alloc(600_000)), gzipSync(Buffer.alloc(600_000))]);
    await expect(readGzipMembers(two)).rejects.toThrow(GzipStreamError);
    expect((await readGzipMembers(two, { maxUncompressedBytes: 1_200_000 })).length).toBe(2);
  });

  it.each([
    ['plain text', b('A=1\n')],
    ['trailing garbage', Buffer.concat([gzipSync(b('A=1')), b('junk')])],
    ['trailing zero padding', Buffer.concat([gzipSync(b('A=1')), Buffer.alloc(16)])],
    ['a truncated member', gzipSync(b('A=1\n'.repeat(100))).subarray(0, 20)],
    ['a missing trailer', gzipSync(b('A=1')).subarray(0, -4)],
  ])('refuses %s', async (_what, data) => {
    await expect(readGzipMembers(data, { name: '.env.gz' })).rejects.toThrow(GzipStreamError);
    await expect(readGzipMembers(data, { name: '.env.gz' })).rejects.toThrow(/^gzip file \.env\.gz: /);
  });

  it('refuses a member whose CRC does not match', async () => {
    const gz = Buffer.from(gzipSync(b('A=1\n')));
    gz.writeUInt32LE((gz.readUInt32LE(gz.length - 8) ^ 1) >>> 0, gz.length - 8);
    await expect(readGzipMembers(gz)).rejects.toThrow(/crc error/);
  });

  it('refuses a file above the compressed limit before reading it', async () => {
    const f = join(dir, 'big.gz');
    writeFileSync(f, gzipSync(Buffer.alloc(1000, 'a')));
    await expect(readGzipMembers(f, { maxCompressedBytes: 10 })).rejects.toThrow(/more than the 10 bytes allowed/);
  });
});
