/**
 * appendStatement under writeZip: every regular file hashed on its way into the zip (held `data`
 * and streamed `body` alike, a large one too), folders and links not subjects, the statement the
 * last entry; the zip read back with Python's zipfile (an independent reader).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileEntries, patternBody, T0 } from '../../test/support/archive-entries.js';
import { appendStatement } from './append-statement.js';
import { readTar } from './tar-reader.js';
import { padding, TAR_END, tarHeader } from './tar-header.js';
import { ArtifactsStatementError } from './artifacts-statement-error.js';
import type { StatementSubject } from './artifacts-statement.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';
import { writeZip } from './write-zip.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-append-statement-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A file the source holds in memory, its body never to be made (as ContainerProjectFiles' HeldEntry). */
class HeldFile implements FileEntry {
  readonly type = 'file';
  readonly mode = 0o644;
  readonly mtime = T0;
  readonly linkTarget = '';
  readonly size: number;
  constructor(
    readonly path: string,
    readonly data: Buffer,
  ) {
    this.size = data.length;
  }
  get body(): Readable {
    throw new Error(`the body of ${this.path} was asked for`);
  }
}

/** The zip's entries in order, with the sha256 and (small ones) the text of each. */
function readZip(file: string): { name: string; sha256: string; text: string }[] {
  const script = `
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
out = []
for i in z.infolist():
    b = z.read(i)
    out.append(dict(name=i.filename, sha256=hashlib.sha256(b).hexdigest(), text=b.decode('utf-8', 'replace') if len(b) < 4000000 else ''))
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as { name: string; sha256: string; text: string }[];
}

async function* concat(...sources: FileEntrySource[]): FileEntrySource {
  for (const s of sources) yield* s;
}

describe('appendStatement', () => {
  it('hashes each regular file as it passes into the zip (held data, streamed bodies, a 3 MiB one) and appends the statement last', async () => {
    const big = Buffer.concat(await patternBody(3 * 1024 * 1024, 7).toArray());
    const source = concat(
      fileEntries([
        { path: 'dist', type: 'directory' },
        { path: 'dist/a.txt', content: 'alpha' },
        { path: 'dist/empty', content: '' },
        { path: 'dist/link', type: 'symlink', linkTarget: 'a.txt' },
        { path: 'dist/big.bin', body: () => patternBody(big.length, 7), size: big.length },
      ]),
      (async function* () {
        yield new HeldFile('dist/held.txt', Buffer.from('held in memory'));
      })(),
    );
    let given: StatementSubject[] = [];
    const file = join(dir, 'mixed.zip');
    await writeZip(
      appendStatement(source, {
        path: 'artifacts-metadata.json',
        statement: (subjects) => {
          given = subjects;
          return Buffer.from(JSON.stringify({ subjects }));
        },
      }),
      file,
      { level: 1, signal: signal(), deflateThreads: 0 },
    );
    const expected = [
      { name: 'dist/a.txt', digest: { sha256: sha256('alpha') } },
      { name: 'dist/empty', digest: { sha256: sha256('') } },
      { name: 'dist/big.bin', digest: { sha256: sha256(big) } },
      { name: 'dist/held.txt', digest: { sha256: sha256('held in memory') } },
    ];
    expect(given).toEqual(expected);
    const back = readZip(file);
    expect(back.map((e) => e.name)).toEqual(['dist/', 'dist/a.txt', 'dist/empty', 'dist/link', 'dist/big.bin', 'dist/held.txt', 'artifacts-metadata.json']);
    // the digests are those of what the zip holds
    for (const s of expected) expect(back.find((e) => e.name === s.name)!.sha256).toBe(s.digest.sha256);
    expect(JSON.parse(back.at(-1)!.text)).toEqual({ subjects: expected });
  });

  it('a large file read out of a container\'s tar (readTar\'s streamed bodies, as ContainerProjectFiles gives them) is hashed on its way', async () => {
    const big = Buffer.concat(await patternBody(2_500_000, 3).toArray());
    const member = (name: string, content: Buffer): Buffer[] => [tarHeader({ name, type: 'file', mode: 0o644, mtime: T0, size: content.length }), content, Buffer.alloc(padding(content.length))];
    const tar = Buffer.concat([...member('big.bin', big), ...member('small.txt', Buffer.from('small')), TAR_END]);
    const source = (async function* (): FileEntrySource {
      // socket-sized chunks
      const chunks: Buffer[] = [];
      for (let i = 0; i < tar.length; i += 16 * 1024) chunks.push(tar.subarray(i, i + 16 * 1024));
      for await (const m of readTar(Readable.from(chunks), { where: 'test.tar', inMemoryMax: 1024 * 1024 })) {
        yield { path: m.name, type: m.type, mode: m.mode, mtime: m.mtime, size: m.size, linkTarget: '', body: m.body ?? Readable.from([]), ...(m.data ? { data: m.data } : {}) };
      }
    })();
    let given: StatementSubject[] = [];
    const file = join(dir, 'from-tar.zip');
    await writeZip(appendStatement(source, { path: 's.json', statement: (subjects) => ((given = subjects), Buffer.from('{}')) }), file, { level: 0, signal: signal() });
    expect(given).toEqual([
      { name: 'big.bin', digest: { sha256: sha256(big) } },
      { name: 'small.txt', digest: { sha256: sha256('small') } },
    ]);
  });

  it('a statement over 1 MiB (thousands of subjects) is streamed into the zip whole', async () => {
    const statement = Buffer.from('x'.repeat(1536 * 1024));
    const file = join(dir, 'large-statement.zip');
    await writeZip(appendStatement(fileEntries([{ path: 'a', content: 'a' }]), { path: 'artifacts-metadata.json', statement: () => statement }), file, {
      level: 1,
      signal: signal(),
    });
    const back = readZip(file);
    expect(back.map((e) => e.name)).toEqual(['a', 'artifacts-metadata.json']);
    expect(back[1]!.sha256).toBe(sha256(statement));
  });

  it('a selected file at the statement\'s path is hashed and replaced by the statement (gitlab-runner overwrites it)', async () => {
    let given: StatementSubject[] = [];
    const file = join(dir, 'same-name.zip');
    await writeZip(
      appendStatement(
        fileEntries([
          { path: 'artifacts-metadata.json', content: 'the user\'s own' },
          { path: 'b', content: 'b' },
        ]),
        {
          path: 'artifacts-metadata.json',
          statement: (subjects) => {
            given = subjects;
            return Buffer.from('statement');
          },
        },
      ),
      file,
      { level: 0, signal: signal() },
    );
    expect(given).toEqual([
      { name: 'artifacts-metadata.json', digest: { sha256: sha256('the user\'s own') } },
      { name: 'b', digest: { sha256: sha256('b') } },
    ]);
    expect(readZip(file).map((e) => [e.name, e.text])).toEqual([
      ['b', 'b'],
      ['artifacts-metadata.json', 'statement'],
    ]);
  });

  it('without a path (the statement is refused from the archive) passes the entries as they are and appends nothing', async () => {
    const held = new HeldFile('x', Buffer.from('x'));
    const out: FileEntry[] = [];
    let calls = 0;
    for await (const e of appendStatement(
      (async function* () {
        yield held;
      })(),
      { path: null, statement: () => (calls++, Buffer.alloc(0)) },
    )) {
      out.push(e);
    }
    expect(out).toEqual([held]);
    expect(out[0]).toBe(held);
    expect(calls).toBe(1);
  });

  it('a body the writer did not read through leaves a digest missing: an ArtifactsStatementError, no statement', async () => {
    const it = appendStatement(fileEntries([{ path: 'a', content: 'never read' }]), { path: 's.json', statement: () => Buffer.from('{}') })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.path).toBe('a');
    const err = await it.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ArtifactsStatementError);
    expect((err as ArtifactsStatementError).entry).toBe('a');
    expect((err as Error).message).toBe('the artifacts statement has no digest for a: its content was not read through');
  });

  it('an error of a file\'s body reaches the writer', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('the engine dropped the archive'));
      },
    });
    const source = (async function* () {
      yield { path: 'f', type: 'file', mode: 0o644, mtime: T0, size: 10, linkTarget: '', body: failing } satisfies FileEntry;
    })();
    await expect(writeZip(appendStatement(source, { path: 's.json', statement: () => Buffer.from('{}') }), join(dir, 'failing.zip'), { level: 1, signal: signal() })).rejects.toThrow(
      /the engine dropped the archive/,
    );
  });
});
