import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileEntries, patternBody, type EntrySpec } from '../../test/support/archive-entries.js';
import { chunkRelease, offerReleaseWaits } from '../shared/chunk-release.js';
import { ArchiveStreamWriter } from './archive-stream-writer.js';
import { writeZip, writeZipTo } from './write-zip.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-archive-stream-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => AbortSignal.timeout(30_000);

/** Everything a stream carries, read while it is written. */
function collect(stream: PassThrough): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

describe('ArchiveStreamWriter', () => {
  it('writeOwned copies: the caller may reuse its buffer while the stream still queues the chunk', async () => {
    const out = new PassThrough({ highWaterMark: 4 });
    const writer = new ArchiveStreamWriter(out, 'test stream', signal());
    const block = Buffer.from('first');
    const first = writer.writeOwned(block);
    block.write('XXXXX');
    const all = collect(out);
    await first;
    await writer.writeOwned(Buffer.from('second'));
    expect(await writer.finish()).toBe(11);
    out.end();
    expect((await all).toString()).toBe('firstsecond');
  });

  it('writeOwned into a body whose consumer releases: the chunk itself, and it resolves only once released', async () => {
    const out = new PassThrough();
    offerReleaseWaits(out);
    const writer = new ArchiveStreamWriter(out, 'test stream', signal());
    // No consumer has taken the release yet: a copy, as for any stream.
    const early = Buffer.from('early');
    await writer.writeOwned(early);
    expect(out.read()).not.toBe(early);
    const release = chunkRelease(out)!;
    const block = Buffer.from('block');
    let resolved = false;
    const pending = writer.writeOwned(block).then(() => (resolved = true));
    const taken = out.read() as Buffer;
    expect(taken).toBe(block);
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    release(Buffer.from('block')); // another object with the same bytes is not this chunk
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    release(taken);
    await pending;
    expect(await writer.finish()).toBe(10);
  });

  it('a wait for a release ends with the abort, or with the body closing', async () => {
    const out = new PassThrough();
    offerReleaseWaits(out);
    chunkRelease(out);
    const controller = new AbortController();
    const writer = new ArchiveStreamWriter(out, 'the upload body', controller.signal);
    const aborted = writer.writeOwned(Buffer.from('a'));
    controller.abort(new Error('job canceled'));
    await expect(aborted).rejects.toThrow('job canceled');
    const other = new ArchiveStreamWriter(out, 'the upload body', signal());
    const closed = other.writeOwned(Buffer.from('b'));
    out.destroy();
    await expect(closed).rejects.toThrow('the upload body was closed before the archive was complete');
  });

  it('writeZipTo a stream gives the very bytes writeZip writes to a file (the format does not change)', async () => {
    const specs = (): EntrySpec[] => [
      { path: 'dist', type: 'directory' },
      ...Array.from({ length: 300 }, (_, i): EntrySpec => ({ path: `dist/f${i}.txt`, content: `content of ${i} `.repeat(i + 1) })),
      { path: 'dist/big.bin', body: () => patternBody(3 * 1024 * 1024, 7), size: 3 * 1024 * 1024 },
      { path: 'dist/link', type: 'symlink', linkTarget: 'f1.txt' },
    ];
    const file = join(dir, 'a.zip');
    const toFile = await writeZip(fileEntries(specs()), file, { level: 5, signal: signal(), deflateThreads: 0 });
    const out = new PassThrough();
    const streamed = collect(out);
    const toStream = await writeZipTo(fileEntries(specs()), new ArchiveStreamWriter(out, 'test stream', signal()), { level: 5, signal: signal(), deflateThreads: 0 });
    out.end();
    const bytes = await streamed;
    expect(toStream).toEqual(toFile);
    expect(bytes.length).toBe(toFile.bytes);
    expect(bytes.equals(await readFile(file))).toBe(true);
  });

  it('a stream closed by its reader fails the archive with a message naming the stream', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    const specs: EntrySpec[] = [{ path: 'big.bin', body: () => patternBody(4 * 1024 * 1024, 1), size: 4 * 1024 * 1024 }];
    const writing = writeZipTo(fileEntries(specs), new ArchiveStreamWriter(out, 'the upload body', signal()), { level: 1, signal: signal(), deflateThreads: 0 });
    out.destroy();
    await expect(writing).rejects.toThrow(/could not write the zip archive the upload body \(at big\.bin\): the upload body was closed before the archive was complete/);
  });
});
