/**
 * An archive read while it downloads: zipToTar over an ArrivingFile whose body is written in
 * chunks by the test (as the downloader's FileSink does), its end handed over first (as
 * prefetchZipTail does). The zips are yazl's (an independent writer).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTar } from '../../test/support/read-tar.js';
import { zipOf } from '../../test/support/yazl-zip.js';
import { ArchiveError } from './archive-error.js';
import { ArrivingFile } from './arriving-file.js';
import { zipTailStart } from './zip-tail.js';
import { zipToTar } from './zip-to-tar.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-arriving-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const files = Array.from({ length: 12 }, (_, i) => ({ name: `dist/f${i}.bin`, data: randomBytes(400_000 + i) }));


/** Writes `zip` into the arriving file in `pieces` chunks, `pauseMs` apart, as a download would. */
async function arrive(file: ArrivingFile, zip: Buffer, pieces: number, pauseMs: number): Promise<number> {
  const fh: FileHandle = await open(file.path, 'w');
  file.opened();
  const step = Math.ceil(zip.length / pieces);
  for (let at = 0; at < zip.length; at += step) {
    await sleep(pauseMs);
    const chunk = zip.subarray(at, at + step);
    await fh.write(chunk, 0, chunk.length, at);
    file.wrote(at, chunk);
  }
  await fh.close();
  file.finish(zip.length);
  return performance.now();
}

/** What prefetchZipTail hands over: at least the last 65,577 bytes (yauzl looks for the end records in them), and the central directory. */
function tailOf(zip: Buffer): Buffer {
  return zip.subarray(Math.min(zipTailStart(0, zip)!, zip.length - 65_577));
}

describe('ArrivingFile', () => {
  it('zipToTar reads the central directory from the end fetched first and each entry as soon as the body has reached it', async () => {
    const zip = await zipOf(files);
    const file = new ArrivingFile(join(dir, 'a.zip'));
    file.setTail(zip.length, tailOf(zip));
    const body = arrive(file, zip, 12, 60);
    const { stream, done } = await zipToTar(file.path, { signal: new AbortController().signal, arriving: file });
    const [tar, bodyEnd] = await Promise.all([readTar(stream), body, done]).then(([t, e]) => [t, e] as const);
    expect([...tar.keys()]).toEqual(files.map((f) => f.name));
    for (const f of files) expect(tar.get(f.name)!.data.equals(f.data)).toBe(true);
    // The first file came out well before the last byte of the body was in.
    expect(tar.get(files[0]!.name)!.at).toBeLessThan(bodyEnd - 250);
    expect(file.complete).toBe(true);
  });

  it('without the end fetched first (no Range), reads wait for the whole file', async () => {
    const zip = await zipOf(files);
    const file = new ArrivingFile(join(dir, 'b.zip'));
    const body = arrive(file, zip, 5, 40);
    const { stream, done } = await zipToTar(file.path, { signal: new AbortController().signal, arriving: file });
    expect(file.complete).toBe(true);
    const tar = await readTar(stream);
    await Promise.all([body, done]);
    expect(tar.size).toBe(files.length);
  });

  it('a body that differs from the end fetched first fails the reads, and check() says the archive changed', async () => {
    const zip = await zipOf(files);
    const tail = Buffer.from(tailOf(zip));
    tail[tail.length - 30] = tail[tail.length - 30]! ^ 0xff;
    const file = new ArrivingFile(join(dir, 'c.zip'));
    file.setTail(zip.length, tail);
    await arrive(file, zip, 4, 0);
    expect(file.failed).toBe(true);
    expect(() => file.check()).toThrow(ArchiveError);
    expect(() => file.check()).toThrow(/changed while it was downloaded/);
    await expect(file.read(0, Buffer.alloc(4), 0, 4, 0)).rejects.toThrow(/changed while it was downloaded/);
  });

  it('an end that comes after the body has passed into it: the bytes already in the file are read from the file, never from the end', async () => {
    const zip = await zipOf(files);
    const tail = Buffer.from(tailOf(zip));
    const start = zip.length - tail.length;
    // The end as fetched differs from the body in its first 100 bytes, which the body has written already.
    for (let i = 0; i < 100; i++) tail[i] = tail[i]! ^ 0xff;
    const file = new ArrivingFile(join(dir, 'f.zip'));
    const fh = await open(file.path, 'w+');
    file.opened();
    await fh.write(zip, 0, start + 100, 0);
    file.wrote(0, zip.subarray(0, start + 100));
    file.setTail(zip.length, tail);
    expect(file.failed).toBe(false);
    const buf = Buffer.alloc(150);
    const reading = file.read(fh.fd, buf, 0, 150, start + 50);
    await fh.write(zip, start + 100, zip.length - start - 100, start + 100);
    file.wrote(start + 100, zip.subarray(start + 100));
    expect(await reading).toBe(150);
    expect(buf.equals(zip.subarray(start + 50, start + 200))).toBe(true);
    expect(file.failed).toBe(false);
    await fh.close();
  });

  it('a download that fails rejects the reads waiting for it with its error', async () => {
    const zip = await zipOf(files);
    const file = new ArrivingFile(join(dir, 'd.zip'));
    file.setTail(zip.length, tailOf(zip));
    const fh = await open(file.path, 'w+');
    file.opened();
    await fh.write(zip.subarray(0, 1000), 0, 1000, 0);
    file.wrote(0, zip.subarray(0, 1000));
    const buf = Buffer.alloc(100);
    // In the file already, and in the tail: served at once.
    expect(await file.read(fh.fd, buf, 0, 100, 0)).toBe(100);
    expect(await file.read(fh.fd, buf, 0, 22, zip.length - 22)).toBe(22);
    expect(buf.subarray(0, 22).equals(zip.subarray(zip.length - 22))).toBe(true);
    const waiting = file.read(fh.fd, buf, 0, 100, 5000);
    const failure = new Error('connection reset');
    file.fail(failure);
    await expect(waiting).rejects.toBe(failure);
    await fh.close();
  });

  it('a body of another size than the end said fails', async () => {
    const zip = await zipOf(files);
    const file = new ArrivingFile(join(dir, 'e.zip'));
    file.setTail(zip.length + 10, tailOf(zip));
    file.finish(zip.length);
    expect(() => file.check()).toThrow(/is \d+ bytes, not the \d+ its end was fetched from/);
  });
});
