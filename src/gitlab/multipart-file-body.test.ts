import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { multipartFileBody } from './multipart-file-body.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-multipart-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

it('one part "file" with Go\'s quoting, an exact length, and the same bytes on every open()', async () => {
  const file = join(dir, 'a');
  await writeFile(file, 'content');
  const mp = await multipartFileBody(file, 'we"ird\\name.zip');
  const boundary = /boundary=([0-9a-f]{60})$/.exec(mp.contentType)![1]!;
  const first = await collect(mp.body.open());
  expect(first.toString()).toBe(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="we\\"ird\\\\name.zip"\r\nContent-Type: application/octet-stream\r\n\r\ncontent\r\n--${boundary}--\r\n`,
  );
  expect(mp.body.length).toBe(first.length);
  expect(mp.fileSize).toBe(7);
  expect((await collect(mp.body.open())).equals(first)).toBe(true);
});

it('an empty file and a file that shrank after stat', async () => {
  const empty = join(dir, 'e');
  await writeFile(empty, '');
  const mp = await multipartFileBody(empty, 'x');
  expect((await collect(mp.body.open())).length).toBe(mp.body.length);
  const f = join(dir, 'f');
  await writeFile(f, '0123456789');
  const shrinking = await multipartFileBody(f, 'x');
  await writeFile(f, '01');
  await expect(collect(shrinking.body.open())).rejects.toThrow(/shrank while it was being uploaded \(2 of 10 bytes\)/);
});
