/**
 * DockerodeEngine.putArchive of a tar whose chunks are reused (zipToTar's TarByteStream): each
 * chunk is given back once the socket has taken it, and the files that land in the container are
 * the archive's, byte for byte (a chunk reused too early would put another file's bytes there).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../artifacts/write-zip.js';
import { zipToTar } from '../artifacts/zip-to-tar.js';
import { chunkRelease, offerChunkRelease } from '../shared/chunk-release.js';
import { fileEntries, patternBody, type EntrySpec } from '../../test/support/archive-entries.js';
import { readTar } from '../../test/support/read-tar.js';
import { DockerodeEngine } from './dockerode-engine.js';

const engine = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' });
const label = `berth.test.put-archive-release=${randomBytes(4).toString('hex')}`;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-put-release-'));
});
afterAll(async () => {
  for (const c of await engine.listContainers([label])) await engine.removeContainer(c.id, { force: true });
  expect(await engine.listContainers([label])).toEqual([]);
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('putArchive of a tar with reusable chunks', () => {
  it('releases the chunks as they are sent, and the container gets every file exactly', async () => {
    // 400 files of 1-40 KB (about 8 MB: a few dozen chunks of 1 MiB), each with its own bytes.
    const specs: EntrySpec[] = Array.from({ length: 400 }, (_, i) => ({ path: `d${i % 7}/f${i}.bin`, content: randomBytes(1000 + ((i * 7919) % 40_000)) }));
    specs.push({ path: 'big.bin', body: () => patternBody(3_000_000, 3), size: 3_000_000 });
    const zip = join(dir, 'a.zip');
    await writeZip(fileEntries(specs), zip, { level: 1, signal: AbortSignal.timeout(30_000) });

    const [k, v] = label.split('=') as [string, string];
    const id = await engine.createContainer({ name: `berth-put-release-${randomBytes(4).toString('hex')}`, image: 'berth-test/busybox:latest', cmd: ['true'], labels: { [k]: v } });

    const { stream, done } = await zipToTar(zip, { signal: AbortSignal.timeout(60_000) });
    const give = chunkRelease(stream)!;
    let released = 0;
    offerChunkRelease(stream, (c) => {
      released++;
      give(c);
    });
    await Promise.all([engine.putArchive(id, '/tmp', stream, AbortSignal.timeout(60_000)), done]);
    expect(released).toBeGreaterThanOrEqual(8);

    const back = await engine.getArchive(id, '/tmp', AbortSignal.timeout(60_000));
    const files = await readTar(back!);
    const want = new Map(await Promise.all(specs.map(async (s) => [`tmp/${s.path}`, s.content ? sha(s.content as Buffer) : sha(Buffer.concat(await patternBody(3_000_000, 3).toArray()))] as const)));
    expect(new Map([...files].map(([name, f]) => [name, sha(f.data)]))).toEqual(want);
  });
});
