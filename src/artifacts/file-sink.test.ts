import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArrivingFile } from './arriving-file.js';
import { FileSink } from './file-sink.js';

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
  it('writes the pieces a 1 MiB block at a time, in order: the file is the body', async () => {
    const body = pieces();
    const handle = await open(join(dir, 'probe'), 'w');
    const write = vi.spyOn(Object.getPrototypeOf(handle) as FileHandle, 'write');
    await handle.close();
    try {
      const sink = new FileSink(join(dir, 'plain'));
      await pipeline(Readable.from(body), sink);
      const whole = Buffer.concat(body);
      expect(sink.bytes).toBe(whole.length);
      expect((await readFile(join(dir, 'plain'))).equals(whole)).toBe(true);
      // 400 pieces, about 4 MB: a write per block, not per piece.
      expect(write.mock.calls.length).toBe(Math.ceil(whole.length / (1024 * 1024)));
      expect(write.mock.calls.slice(0, -1).every((c) => (c as unknown[])[2] === 1024 * 1024)).toBe(true);
    } finally {
      write.mockRestore();
    }
  });

  it('a body cut short: what arrived is in the file before it closes, and `bytes` says how much (a resumed download goes on from there)', async () => {
    const body = pieces().slice(0, 150);
    const whole = Buffer.concat(body);
    const cut = new Readable({
      read() {
        const next = body.shift();
        if (next) this.push(next);
        else this.destroy(new Error('socket hang up'));
      },
    });
    const path = join(dir, 'cut');
    const arriving = new ArrivingFile(path);
    const sink = new FileSink(path, arriving);
    await expect(pipeline(cut, sink)).rejects.toThrow(/socket hang up/);
    if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
    expect(whole.length % (1024 * 1024)).not.toBe(0);
    expect(sink.bytes).toBe(whole.length);
    expect((await readFile(path)).equals(whole)).toBe(true);
    expect(arriving.inFrom(0)).toBe(whole.length);
  });

  it('a body cut short while a piece waits for a block (the disk slower than the network): that piece is in the file too', async () => {
    // Pieces that do not divide a block: one is copied in part, waits for a block, then the rest.
    const piece = randomBytes(100_000);
    const handle = await open(join(dir, 'probe2'), 'w');
    const proto = Object.getPrototypeOf(handle) as FileHandle;
    await handle.close();
    const realWrite = Object.getOwnPropertyDescriptor(proto, 'write')!.value as (...a: unknown[]) => Promise<unknown>;
    // File writes wait until the gate opens: both blocks are soon under writes and a piece waits.
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const slow = vi.spyOn(proto, 'write').mockImplementation(function (this: FileHandle, ...args: unknown[]) {
      return gate.then(() => realWrite.apply(this, args));
    } as typeof proto.write);
    try {
      let sent = 0;
      const body = new Readable({
        read() {
          // 40 pieces (4 MB) as fast as they are taken; then nothing more, and no end.
          if (sent < 40) {
            sent++;
            this.push(piece);
          }
        },
      });
      const path = join(dir, 'cut-busy');
      const sink = new FileSink(path);
      const piped = pipeline(body, sink);
      // Both blocks are full with 20.97 pieces: the 21st waits for one. The connection drops then.
      while (sink.bytes < 21 * piece.length) await new Promise((resolve) => setTimeout(resolve, 5));
      body.destroy(new Error('socket hang up'));
      openGate();
      await expect(piped).rejects.toThrow(/socket hang up/);
      if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
      const file = await readFile(path);
      expect(sink.bytes).toBe(21 * piece.length);
      expect(file.length).toBe(sink.bytes);
      for (let at = 0; at < file.length; at += piece.length) expect(file.subarray(at, at + piece.length).equals(piece.subarray(0, Math.min(piece.length, file.length - at)))).toBe(true);
    } finally {
      slow.mockRestore();
    }
  });

  it('frees the body\'s dead Buffers as it goes: a scavenge per few MiB written', async () => {
    const chunk = randomBytes(64 * 1024);
    const sink = new FileSink(join(dir, 'scavenged'));
    await pipeline(Readable.from(Array.from({ length: 320 }, () => chunk)), sink);
    expect(sink.bytes).toBe(20 * 1024 * 1024);
    expect(sink.garbage.collections).toBeGreaterThanOrEqual(4);
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
