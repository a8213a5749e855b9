import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArrivingFile } from './arriving-file.js';
import { FileSink, GATHER_WAIT_MS } from './file-sink.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-file-sink-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Many pieces of varying size, pushed faster than a file write completes (they queue). */
function pieces(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 400; i++) out.push(randomBytes(1 + ((i * 7919) % 20_000)));
  return out;
}

describe('FileSink', () => {
  it('gathers the pieces into blocks of 1 MiB: the file is the body, written in few writes', async () => {
    const body = pieces();
    const whole = Buffer.concat(body);
    const path = join(dir, 'plain');
    const arriving = new ArrivingFile(path);
    const wrote = vi.spyOn(arriving, 'wrote');
    const sink = new FileSink(path, arriving);
    await pipeline(Readable.from(body), sink);
    expect(sink.bytes).toBe(whole.length);
    expect((await readFile(path)).equals(whole)).toBe(true);
    // 400 pieces, about 4 MB: a write per full MiB (and the rest), each told to the ArrivingFile in order.
    expect(wrote.mock.calls.length).toBeLessThanOrEqual(Math.ceil(whole.length / (1024 * 1024)) + 1);
    let at = 0;
    for (const [position, bytes] of wrote.mock.calls) {
      expect(position).toBe(at);
      at += bytes.length;
    }
    expect(at).toBe(whole.length);
  });

  it(`writes bytes that wait for more within ${GATHER_WAIT_MS} ms: a reader is not kept waiting by a slow body`, async () => {
    const path = join(dir, 'slow');
    const arriving = new ArrivingFile(path);
    const first = randomBytes(1000);
    const second = randomBytes(500);
    arriving.setTail(1500, second); // the end fetched ahead, as the downloaders do
    let release!: () => void;
    const more = new Promise<void>((resolve) => (release = resolve));
    const body = Readable.from(
      (async function* () {
        yield first;
        await more;
        yield second;
      })(),
    );
    const done = pipeline(body, new FileSink(path, arriving));
    await arriving.head(1000); // resolves once the first 1000 bytes are in the file, the body still open
    expect((await readFile(path)).subarray(0, 1000).equals(first)).toBe(true);
    release();
    await done;
    expect(arriving.inFrom(0)).toBe(1500);
  });

  it('a body that fails midway: the bytes it counts are in the file, what was still gathering is not counted', async () => {
    const path = join(dir, 'cut');
    const whole = randomBytes(2_500_000);
    const body = Readable.from(
      (async function* () {
        for (let at = 0; at < whole.length; at += 50_000) yield whole.subarray(at, at + 50_000);
        throw new Error('connection reset');
      })(),
    );
    const sink = new FileSink(path);
    await expect(pipeline(body, sink)).rejects.toThrow('connection reset');
    await new Promise((resolve) => (sink.closed ? resolve(undefined) : sink.once('close', resolve)));
    expect(sink.bytes).toBe(2 * 1024 * 1024); // two full blocks; the rest was gathering
    expect((await readFile(path)).subarray(0, sink.bytes).equals(whole.subarray(0, sink.bytes))).toBe(true);
  });

  it('tells an ArrivingFile where every byte landed, and a differing end is still caught inside a joined write', async () => {
    const body = pieces();
    const whole = Buffer.concat(body);
    const path = join(dir, 'arriving');
    const ok = new ArrivingFile(path);
    ok.setTail(whole.length, whole.subarray(whole.length - 5000));
    await pipeline(Readable.from(body), new FileSink(path, ok));
    expect(ok.failed).toBe(false);
    expect(ok.inFrom(0)).toBe(whole.length);
    expect((await readFile(path)).equals(whole)).toBe(true);

    const bad = new ArrivingFile(join(dir, 'arriving-bad'));
    const end = Buffer.from(whole.subarray(whole.length - 5000));
    end[100] = end[100]! ^ 0xff;
    bad.setTail(whole.length, end);
    await pipeline(Readable.from(body), new FileSink(join(dir, 'arriving-bad'), bad));
    expect(bad.failed).toBe(true);
    expect(() => bad.check()).toThrow(/changed while it was downloaded/);
  });
});
